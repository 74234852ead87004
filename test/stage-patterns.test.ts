import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createService } from "./fixtures.js";
import { issueAccessKey } from "../src/domain/access-keys.js";
import { stageMatchesPattern, stagePatternToLike } from "../src/domain/scope.js";
import { fromGlobalId } from "../src/graphql/global-id.js";
import { Role } from "../src/entities/index.js";
import { harness } from "./setup.js";

/** What a `*` glob means, written the obvious (backtracking) way: the reference for small inputs only. */
const reference = (pattern: string) => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[-]/g, "\\-")).join(".*")}$`);

/** Every string of length 0..max over the alphabet. */
function* strings(alphabet: string[], max: number): Generator<string> {
  yield "";
  let level = [""];
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((s) => alphabet.map((c) => s + c));
    yield* level;
  }
}

const HOSTILE = "*********x";
const LONG_STAGE = "a".repeat(40);

describe("stage patterns", () => {
  it("match as globs: the linear matcher agrees with a regular expression on every small pattern and stage", () => {
    const stages = [...strings(["a", "b", "-"], 5)];
    let compared = 0;
    for (const pattern of strings(["a", "b", "-", "*"], 5)) {
      if (pattern === "") continue;
      const expected = reference(pattern);
      for (const stage of stages) {
        if (stageMatchesPattern(pattern, stage) !== expected.test(stage)) expect.fail(`${pattern} ~ ${stage}: expected ${expected.test(stage)}`);
        compared++;
      }
    }
    expect(compared).to.be.greaterThan(100_000);
  });

  it("match in SQL with LIKE exactly as in code", async () => {
    const db = harness().application.dataSource;
    const cases: Array<[string, string]> = [["feature-*", "feature-x"], ["feature-*", "prod"], ["pr-*-eu", "pr-12-eu"], ["pr-*-eu", "pr-eu"], ["*", "x"], ["a*a*a", "aa"], [HOSTILE, LONG_STAGE], [HOSTILE, `${LONG_STAGE}x`]];
    for (const [pattern, stage] of cases) {
      const [{ matches }] = await db.query("SELECT $1::text LIKE $2::text AS matches", [stage, stagePatternToLike(pattern)]);
      expect(matches, `${pattern} ~ ${stage}`).to.equal(stageMatchesPattern(pattern, stage));
    }
  });

  it("a pattern that made the old regular expression backtrack for seconds matches at once, however many stars", () => {
    // Each extra `*` multiplied the old matcher's time by about five; these would not finish.
    for (const stars of [9, 20, 60]) {
      const pattern = `${"*".repeat(stars)}x`;
      expect(stageMatchesPattern(pattern, LONG_STAGE)).to.equal(false);
      expect(stageMatchesPattern(pattern, `${LONG_STAGE}x`)).to.equal(true);
      const alternating = `${"*a".repeat(stars)}*x`;
      expect(stageMatchesPattern(alternating, "a".repeat(64))).to.equal(false);
    }
  });

  it("a key's stage patterns are limited in form when it is created", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const CREATE = `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token userErrors { code field } } }`;
    for (const stages of [[HOSTILE], ["a**b"], ["*a*b*c*d"], ["x".repeat(65)]]) {
      const result = (await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEPLOYER", scope: { stages } } })).createAccessKey;
      expect(result, JSON.stringify(stages)).to.deep.equal({ token: null, userErrors: [{ code: "INVALID_SCOPE", field: ["input", "scope", "stages"] }] });
    }
    const nul = (await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEPLOYER", scope: { stages: ["feature-\u0000"] } } })).createAccessKey;
    expect(nul).to.deep.equal({ token: null, userErrors: [{ code: "INVALID_INPUT", field: ["input", "scope", "stages", "0"] }] });
    for (const stages of [["feature-*"], ["pr-*-eu", "*-*-*"], ["prod"]]) {
      expect((await ok(admin, CREATE, { input: { orgId, name: "ci", role: "DEPLOYER", scope: { stages } } })).createAccessKey.userErrors).to.deep.equal([]);
    }
  });

  it("a key stored with such a pattern before the limit still answers at once, in code and in SQL", async () => {
    const { key: admin, orgId } = await newOrg("acme");
    const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    await createInstance(admin, serviceId, LONG_STAGE);
    await createInstance(admin, serviceId, `${LONG_STAGE}x`);
    const { token } = await issueAccessKey(harness().application.dataSource.manager, {
      orgId: fromGlobalId(orgId)!.id,
      name: "legacy",
      role: Role.DEVELOPER,
      scope: { apps: null, services: null, stages: [HOSTILE], linkableProviderIds: null },
    });
    const listed = (await ok(token, `{ org(slug: "acme") { apps { nodes { services { nodes { instances { nodes { stage } } } } } } } }`)).org;
    expect(listed.apps.nodes[0].services.nodes[0].instances.nodes).to.deep.equal([{ stage: `${LONG_STAGE}x` }]);
    const DEPLOY = `mutation($stage: String!) { deploymentCredentials(input: { org: "acme", app: "shop", service: "api", stage: $stage }) { useLocalCredentials } }`;
    expect((await gql(token, DEPLOY, { stage: LONG_STAGE })).errors?.[0].extensions?.code).to.equal("FORBIDDEN");
    expect((await ok(token, DEPLOY, { stage: `${LONG_STAGE}x` })).deploymentCredentials.useLocalCredentials).to.equal(true);
  });
});
