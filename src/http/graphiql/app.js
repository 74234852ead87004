/* global React, ReactDOM, GraphiQL */
(function () {
  "use strict";
  var STORAGE_KEY = "providers-api.accessKey";
  var input = document.getElementById("access-key");
  var status = document.getElementById("key-status");
  input.value = sessionStorage.getItem(STORAGE_KEY) || "";

  function showStatus() {
    status.textContent = input.value ? "Key set for this tab." : "No key: requests will be refused (UNAUTHENTICATED).";
  }
  document.getElementById("key-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(STORAGE_KEY, input.value.trim());
    // GraphiQL loads the schema once, at start: reload so it fetches it with the key.
    window.location.reload();
  });
  showStatus();

  function fetcher(params, options) {
    var headers = Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, (options && options.headers) || {});
    var key = sessionStorage.getItem(STORAGE_KEY);
    if (key) headers.Authorization = "Bearer " + key;
    return fetch("/graphql", { method: "POST", headers: headers, body: JSON.stringify(params) }).then(function (response) {
      return response.json();
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: "# Paste an access key above, then run:\n{\n  viewer {\n    orgs { slug name viewerRole }\n  }\n}\n",
    }),
  );
})();
