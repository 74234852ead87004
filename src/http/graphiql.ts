import path from "node:path";
import express, { type Router } from "express";

/*
 * GraphiQL for admins, served from our own files and the graphiql/react packages in node_modules:
 * no CDN, so it works air-gapped. The page keeps the pasted key in sessionStorage only.
 */

const asset = (pkg: string, file: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

const ASSETS: Record<string, string> = {
  "react.js": asset("react", "umd/react.production.min.js"),
  "react-dom.js": asset("react-dom", "umd/react-dom.production.min.js"),
  "graphiql.js": asset("graphiql", "graphiql.min.js"),
  "graphiql.css": asset("graphiql", "graphiql.min.css"),
  "app.js": path.join(__dirname, "..", "..", "..", "src", "http", "graphiql", "app.js"),
  "app.css": path.join(__dirname, "..", "..", "..", "src", "http", "graphiql", "app.css"),
  "favicon.svg": path.join(__dirname, "..", "..", "..", "src", "http", "graphiql", "favicon.svg"),
};

/**
 * The page's policy: its own files only, no inline script, no eval, nothing remote. graphiql.css brings
 * its fonts (34 faces) and a few images as data: URLs. Styles may be inline: GraphiQL's dialogs insert
 * a <style> element and CodeMirror's search bar style attributes (the browser test opens the settings
 * dialog to show it); a style cannot run code.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "font-src data:",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const GRAPHIQL_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>providers-api · GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/svg+xml" href="/graphiql/favicon.svg">
<link rel="stylesheet" href="/graphiql/graphiql.css">
<link rel="stylesheet" href="/graphiql/app.css">
</head>
<body>
<form id="key-bar" autocomplete="off">
  <label for="access-key">Access key</label>
  <input id="access-key" type="password" autocomplete="off" placeholder="pvk_… (sent as Authorization: Bearer; kept in this tab only)" spellcheck="false">
  <button type="submit">Use key</button>
  <span id="key-status" role="status"></span>
</form>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.js"></script>
<script src="/graphiql/react-dom.js"></script>
<script src="/graphiql/graphiql.js"></script>
<script src="/graphiql/app.js"></script>
</body>
</html>
`;

export function graphiqlRouter(): Router {
  const router = express.Router();
  router.get("/graphiql/:file", (req, res, next) => {
    const file = ASSETS[req.params.file];
    if (!file) return next();
    res.sendFile(file, { maxAge: "1h" });
  });
  return router;
}

/** A browser navigating to /graphql gets the page; API clients never send Accept: text/html first. */
export function wantsGraphiQL(req: express.Request): boolean {
  return req.method === "GET" && req.accepts(["application/json", "application/graphql-response+json", "text/html"]) === "text/html" && !req.query.query;
}
