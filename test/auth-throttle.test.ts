import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { expect } from "chai";
import { loadConfig, type TrustProxy } from "../src/config.js";
import { generateToken } from "../src/domain/access-key-tokens.js";
import { AuthThrottle, clientOf } from "../src/http/auth-throttle.js";
import { createHttpServer } from "../src/http/app.js";
import { buildApiSchema } from "../src/graphql/schema.js";
import { createLogger } from "../src/logger.js";
import { newOrg } from "./client.js";
import { harness } from "./setup.js";

const LIMIT = 3;

/** A server of its own on the test database, with a small failure limit. */
async function throttledServer(trustProxy: TrustProxy) {
  const logs: string[] = [];
  const logger = createLogger("debug", new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }));
  const { application } = harness();
  const { server, apollo } = await createHttpServer({
    schema: await buildApiSchema(),
    dataSource: application.dataSource,
    services: application.services,
    logger,
    shutdownGraceMs: 1000,
    limits: loadConfig({}).limits,
    trustProxy,
    authThrottle: { limit: LIMIT, windowSeconds: 60 },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { port, logs, stop: () => apollo.stop() };
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: any;
}

/** A GraphQL request over real HTTP from a chosen loopback source address. */
function ask(port: number, from: string, key: string | null, headers: Record<string, string> = {}): Promise<Answer> {
  const body = JSON.stringify({ query: "{ viewer { orgs { slug } } }" });
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        localAddress: from,
        agent: false,
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, retryAfter: response.headers["retry-after"], body: JSON.parse(text) }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("failed authentication is throttled per client address", function () {
  let server: Awaited<ReturnType<typeof throttledServer>>;
  afterEach(async () => {
    await server?.stop();
  });

  it("answers 429 with Retry-After past the limit, even for a valid key, while another address is unaffected", async () => {
    server = await throttledServer(false);
    const { key } = await newOrg("acme");
    const bad = [null, "pvk_not-even-well-formed", generateToken()];
    for (const attempt of bad) {
      const answer = await ask(server.port, "127.0.0.2", attempt);
      expect(answer.status).to.equal(401);
      expect(answer.body.errors[0].extensions.code).to.equal("UNAUTHENTICATED");
    }
    for (const attempt of [generateToken(), key]) {
      const refused = await ask(server.port, "127.0.0.2", attempt);
      expect(refused.status).to.equal(429);
      expect(refused.body.errors[0].extensions.code).to.equal("TOO_MANY_FAILED_AUTHENTICATIONS");
      expect(Number(refused.retryAfter)).to.be.within(1, 60);
      expect(refused.body.errors[0].extensions.retryAfterSeconds).to.equal(Number(refused.retryAfter));
      expect(refused.body.errors[0].message).to.match(/try again in \d+ seconds/);
    }
    const elsewhere = await ask(server.port, "127.0.0.3", key);
    expect(elsewhere.status).to.equal(200);
    expect(elsewhere.body.data.viewer.orgs).to.deep.equal([{ slug: "acme" }]);

    // Logged with the address and a hash prefix, never the key itself.
    const failures = server.logs.filter((line) => line.includes("authentication failed")).map((line) => JSON.parse(line));
    expect(failures).to.have.length(LIMIT);
    expect(failures.map((f) => f.client)).to.deep.equal(["127.0.0.2", "127.0.0.2", "127.0.0.2"]);
    expect(failures[0].keyHashPrefix).to.equal(null);
    expect(failures[2].keyHashPrefix).to.match(/^[0-9a-f]{12}$/);
    expect(server.logs.some((line) => line.includes("refused for the rest of its window"))).to.equal(true);
    for (const secret of [bad[1]!, bad[2]!, key]) expect(server.logs.join("\n")).not.to.include(secret);
  });

  it("a burst of concurrent bad keys above the pool size gets 401s, then the address is refused", async () => {
    server = await throttledServer(false);
    const { key } = await newOrg("acme");
    const burst = await Promise.all(Array.from({ length: 30 }, () => ask(server.port, "127.0.0.4", generateToken())));
    expect(burst.every((a) => a.status === 401 || a.status === 429)).to.equal(true);
    expect((await ask(server.port, "127.0.0.4", generateToken())).status).to.equal(429);
    expect((await ask(server.port, "127.0.0.4", key)).status).to.equal(429);
    expect((await ask(server.port, "127.0.0.5", key)).status).to.equal(200);
  });

  it("20 addresses sending bad keys all at once are each refused, and an address that never failed is served", async () => {
    server = await throttledServer(loadConfig({ TRUST_PROXY: "loopback" }).trustProxy);
    const { key } = await newOrg("acme");
    const addresses = Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}`);
    const burst = await Promise.all(
      addresses.flatMap((address) => Array.from({ length: LIMIT }, () => ask(server.port, "127.0.0.1", generateToken(), { "x-forwarded-for": address }))),
    );
    expect(burst.map((a) => a.status)).to.deep.equal(burst.map(() => 401));
    const after = await Promise.all(addresses.map((address) => ask(server.port, "127.0.0.1", key, { "x-forwarded-for": address })));
    expect(after.map((a) => a.status)).to.deep.equal(addresses.map(() => 429));
    expect((await ask(server.port, "127.0.0.1", key, { "x-forwarded-for": "198.51.100.200" })).status).to.equal(200);
  });

  it("refuses an address only until its window ends, then counts afresh", async () => {
    const throttle = new AuthThrottle({ limit: 2, windowSeconds: 1 });
    expect(throttle.refusingAny).to.equal(false);
    expect(await throttle.recordFailure("192.0.2.1")).to.equal(1);
    expect(throttle.retryAfterSeconds("192.0.2.1")).to.equal(0);
    expect(throttle.refusingAny).to.equal(false);
    expect(await throttle.recordFailure("192.0.2.1")).to.equal(2);
    expect(throttle.refusingAny).to.equal(true);
    expect(throttle.retryAfterSeconds("192.0.2.1")).to.equal(1);
    expect(throttle.retryAfterSeconds("192.0.2.2")).to.equal(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(throttle.retryAfterSeconds("192.0.2.1")).to.equal(0);
    expect(throttle.refusingAny).to.equal(false);
    // A new window starts from nothing.
    expect(await throttle.recordFailure("192.0.2.1")).to.equal(1);
    expect(throttle.refusingAny).to.equal(false);
  });

  it("ignores X-Forwarded-For unless a proxy is trusted, so a client cannot name itself fresh", async () => {
    server = await throttledServer(false);
    for (let i = 0; i < LIMIT; i++) await ask(server.port, "127.0.0.6", generateToken(), { "x-forwarded-for": `198.51.100.${i}` });
    expect((await ask(server.port, "127.0.0.6", generateToken(), { "x-forwarded-for": "198.51.100.99" })).status).to.equal(429);
  });

  it("with TRUST_PROXY, counts the address the trusted proxy forwards", async () => {
    server = await throttledServer(loadConfig({ TRUST_PROXY: "loopback" }).trustProxy);
    const { key } = await newOrg("acme");
    for (let i = 0; i < LIMIT; i++) await ask(server.port, "127.0.0.1", generateToken(), { "x-forwarded-for": "203.0.113.7" });
    expect((await ask(server.port, "127.0.0.1", key, { "x-forwarded-for": "203.0.113.7" })).status).to.equal(429);
    // The proxy itself and other clients behind it are unaffected.
    expect((await ask(server.port, "127.0.0.1", key, { "x-forwarded-for": "203.0.113.8" })).status).to.equal(200);
    expect((await ask(server.port, "127.0.0.1", key)).status).to.equal(200);
    // Addresses of one IPv6 /64 are one client.
    for (let i = 1; i <= LIMIT; i++) await ask(server.port, "127.0.0.1", generateToken(), { "x-forwarded-for": `2001:db8:1:2::${i}` });
    expect((await ask(server.port, "127.0.0.1", key, { "x-forwarded-for": "2001:db8:1:2:ffff::1" })).status).to.equal(429);
    expect((await ask(server.port, "127.0.0.1", key, { "x-forwarded-for": "2001:db8:1:3::1" })).status).to.equal(200);
  });

  it("names the client by its address, an IPv6 client by its /64", () => {
    expect(clientOf("::ffff:192.0.2.1")).to.equal("192.0.2.1");
    expect(clientOf("2001:db8::1")).to.equal("2001:db8:0:0::/64");
    expect(clientOf(undefined)).to.equal("unknown");
    expect(clientOf("not an address")).to.equal("unknown");
  });

  it("TRUST_PROXY takes hops or addresses, and refuses `true` and garbage at start-up", () => {
    expect(loadConfig({}).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: "1" }).trustProxy).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).to.deep.equal(["loopback", "10.0.0.0/8"]);
    for (const bad of ["true", "10.0.0.0/99", "proxy.example.com"]) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).to.throw(/TRUST_PROXY must be false, a number of proxy hops/);
    }
    expect(() => loadConfig({ AUTH_FAILURE_LIMIT: "0" })).to.throw(/AUTH_FAILURE_LIMIT must be a whole number, at least 1/);
  });
});
