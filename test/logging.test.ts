import { spawn } from "node:child_process";
import path from "node:path";
import { Writable } from "node:stream";
import { expect } from "chai";
import { postGraphQL, startServing } from "./cli-process.js";
import { newOrg } from "./client.js";
import { freePort } from "./harness.js";
import { createLogger, lineLogger } from "../src/logger.js";
import { harness } from "./setup.js";

const LOGGER = path.join(__dirname, "..", "src", "logger.js");

/** Runs a script that logs through createLogger's own stdout destination, and collects what reached the pipe. */
function runLogging(script: string): Promise<{ code: number | null; lines: Array<Record<string, unknown>>; stderr: string }> {
  const child = spawn(process.execPath, ["-e", `const { createLogger } = require(${JSON.stringify(LOGGER)});\n${script}`]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on("close", (code) => resolve({ code, stderr, lines: stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line)) }));
  });
}

describe("logging", () => {
  it("redacts secrets from every line but the request line, which carries only fixed plain fields", () => {
    const lines: string[] = [];
    const logger = createLogger("info", new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const plain = lineLogger(logger);
    const secrets = {
      authorization: "Bearer pvk_one",
      token: "pvk_two",
      secretKey: "sk_three",
      headers: { authorization: "Bearer pvk_four" },
      nested: { token: "pvk_five" },
      credentials: { accessKeyId: "ASIA_SIX", secretAccessKey: "aws_seven", sessionToken: "aws_eight" },
      request: { headers: { authorization: "Bearer pvk_nine" } },
    };
    logger.info(secrets, "after the request logger was made");
    const [line] = lines.map((l) => JSON.parse(l));
    const redacted = ["authorization", "token", "secretKey", "headers.authorization", "nested.token", "credentials.secretAccessKey", "credentials.sessionToken", "request.headers.authorization"];
    for (const path of redacted) expect(path.split(".").reduce((o, k) => o[k], line), path).to.equal("[redacted]");
    expect(line.credentials.accessKeyId).to.equal("ASIA_SIX");
    for (const secret of ["pvk_one", "pvk_two", "sk_three", "pvk_four", "pvk_five", "aws_seven", "aws_eight", "pvk_nine"]) expect(lines.join("")).to.not.include(secret);
    plain.info({ event: "request", requestId: "r1" }, "request");
    expect(JSON.parse(lines[1])).to.include({ event: "request", requestId: "r1", service: "providers-api", msg: "request" });
  });

  it("the request line of every kind of request has only its fixed fields, each a plain value none of the redacted paths names", async () => {
    const { key } = await newOrg("acme");
    harness().logs.length = 0;
    const url = harness().url;
    const post = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    await post("/graphql", { authorization: `Bearer ${key}` }, { query: "query Mine { viewer { __typename } }", operationName: "Mine" });
    await post(`/graphql?token=${key}`, { authorization: `Bearer ${key}`, "x-request-id": "secret-id.1" }, { query: "{ nope }" });
    await post("/graphql", { authorization: "Bearer pvk_wrong" }, { query: "{ viewer { __typename } }" });
    await post("/graphql", { authorization: `Bearer ${key}` }, "not an object");
    await fetch(`${url}/healthz`);
    await fetch(`${url}/no/such/route?token=${key}`);
    await new Promise((resolve) => setImmediate(resolve));
    const requests = harness()
      .logs.map((l) => JSON.parse(l))
      .filter((l) => l.event === "request");
    expect(requests).to.have.length(6);
    const FIELDS = ["level", "time", "pid", "hostname", "service", "msg", "event", "requestId", "method", "path", "operation", "operationName", "status", "outcome", "durationMs", "keyId", "orgId"];
    for (const request of requests) {
      for (const [field, value] of Object.entries(request)) {
        expect(FIELDS, field).to.include(field);
        expect(value === null || ["string", "number"].includes(typeof value), field).to.equal(true);
        expect(field).to.not.match(/^(authorization|token|secret.*|headers)$/);
      }
    }
    expect(requests.map((r) => r.operationName).filter(Boolean)).to.deep.equal(["Mine"]);
    expect(requests.map((r) => r.path)).to.include("/no/such/route");
    expect(harness().logs.join("")).to.not.include(key.slice(4));
  });

  it("writes every line logged before an uncaught exception, in order", async function () {
    this.timeout(30_000);
    // Far more than a pipe holds (64 KiB), so most lines are still queued when the exception ends the process.
    const { code, lines, stderr } = await runLogging(`
      const logger = createLogger("info");
      for (let i = 0; i < 5000; i++) logger.info({ seq: i, filler: "x".repeat(200) }, "line");
      logger.fatal("about to crash");
      throw new Error("boom");
    `);
    expect(code).to.equal(1);
    expect(stderr).to.include("boom");
    expect(lines.map((l) => l.seq ?? l.msg)).to.deep.equal([...Array.from({ length: 5000 }, (_, i) => i), "about to crash"]);
  });

  it("serve writes the request lines of its last requests and its stopping lines when SIGTERM ends it", async function () {
    this.timeout(60_000);
    const { key } = await newOrg("acme");
    const port = await freePort();
    const server = await startServing({ DATABASE_URL: harness().databaseUrl, PORT: String(port), LOG_LEVEL: "info", PROVIDERS_MASTER_KEY: harness().masterKey.toString("base64") });
    try {
      expect(server.output()).to.include("providers-api is listening");
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          ids.push(`last-${i}`);
          const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-request-id": `last-${i}` },
            body: JSON.stringify({ query: "{ viewer { __typename } }" }),
          });
          expect(response.status).to.equal(200);
        }),
      );
      server.child.kill("SIGTERM");
      expect(await server.exited).to.equal(0);
      const lines = server
        .stdout()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const logged = lines.filter((l) => l.event === "request").map((l) => l.requestId);
      expect(logged).to.include.members(ids);
      expect(lines.at(-1).msg).to.equal("stopped cleanly");
    } finally {
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
    }
    // Still serving after the other process stopped: nothing of the suite's server was touched.
    expect((await postGraphQL(Number(new URL(harness().url).port), key, "{ viewer { __typename } }")).data.viewer.__typename).to.equal("Viewer");
  });
});
