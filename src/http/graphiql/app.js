/* global React, ReactDOM, GraphiQL */
(function () {
  "use strict";
  var STORAGE_KEY = "providers-api.accessKey";
  // What the key bar shows: whose key it is, its role in each org. Any key may ask this of itself.
  var KEY_CHECK = "query KeyCheck { viewer { accessKey { name role tokenHint } memberships { role org { slug } } } }";
  var DEFAULT_QUERY = "# Paste an access key above, then run:\n{\n  viewer {\n    orgs { slug name viewerRole }\n  }\n}\n";

  var input = document.getElementById("access-key");
  var status = document.getElementById("key-status");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var mounts = 0;

  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function fetcherFor(key) {
    return function (params, options) {
      var headers = Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, (options && options.headers) || {});
      if (key) headers.Authorization = "Bearer " + key;
      return fetch("/graphql", { method: "POST", headers: headers, body: JSON.stringify(params) }).then(function (response) {
        return response.json().catch(function () {
          throw new Error("The server answered HTTP " + response.status + " without a GraphQL response.");
        });
      });
    };
  }

  function describe(viewer) {
    var key = viewer.accessKey;
    var roles = viewer.memberships.map(function (m) {
      return m.role + " in " + m.org.slug;
    });
    return "Key \u201c" + key.name + "\u201d (" + key.tokenHint + "): " + (roles.length ? roles.join(", ") : "no org") + ".";
  }

  /** Asks the server who the key is; resolves to true when the key works. */
  function check(key) {
    show("checking", "Checking the key\u2026");
    return fetcherFor(key)({ query: KEY_CHECK, operationName: "KeyCheck" }).then(
      function (result) {
        var error = result.errors && result.errors[0];
        if (!error && result.data && result.data.viewer) {
          show("ok", describe(result.data.viewer));
          return true;
        }
        var code = error && error.extensions && error.extensions.code;
        show("error", "Key not accepted: " + (code ? code + ": " : "") + (error ? error.message : "the server's answer has no viewer."));
        // An unknown key is not kept: every page load would spend a failed authentication on it.
        if (code === "UNAUTHENTICATED") sessionStorage.removeItem(STORAGE_KEY);
        return false;
      },
      function (error) {
        show("error", "Could not check the key: " + error.message);
        return false;
      },
    );
  }

  function render(key, working) {
    // A key that does not work gets no schema request (schema: null): it could only fail.
    root.render(
      React.createElement(GraphiQL, {
        key: String(++mounts),
        fetcher: fetcherFor(key),
        schema: working ? undefined : null,
        defaultQuery: DEFAULT_QUERY,
      }),
    );
  }

  function use(key) {
    if (!key) {
      show("none", "No key: paste an access key (pvk_\u2026) to use the API.");
      render(null, false);
      return;
    }
    check(key).then(function (working) {
      render(key, working);
    });
  }

  document.getElementById("key-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = input.value.trim();
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
    use(key);
  });

  input.value = sessionStorage.getItem(STORAGE_KEY) || "";
  use(input.value);
})();
