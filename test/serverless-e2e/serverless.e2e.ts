import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { issueAccessKey } from "../../src/domain/access-keys.js";
import { Role } from "../../src/entities/index.js";
import { fromGlobalId } from "../../src/graphql/global-id.js";
import { newOrg, ok } from "../client.js";
import { createApp, createInstance, createKey, createParameter, createProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "../fixtures.js";
import { harness, sts } from "../setup.js";
import { ensureFrameworkInstalled, NetworkTrap, serverless, serviceFolder } from "./framework.js";

/*
 * `serverless` 3.40.0 itself, run offline against this server: the project adds one plugin line and
 * the server's URL, nothing else. Run by `npm run test:serverless` (and .ci/run).
 */

const ORG = "acmecorp"; // the framework's schema wants 5–39 lowercase letters and digits

const yml = (url: string | null) => `service: api
app: shop
org: ${ORG}
frameworkVersion: "3"
plugins:
  - providers-api/serverless-plugin
${url ? `custom:\n  providersApi:\n    url: ${url}\n` : ""}provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  environment:
    DATABASE_URL: \${param:databaseUrl}
    API_TOKEN: \${param:apiToken}
    LOG_LEVEL: \${param:logLevel}
params:
  default:
    logLevel: info
functions:
  hello:
    handler: handler.hello
`;

async function externalIdOf(key: string, providerId: string): Promise<string> {
  const data = await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId });
  return data.node.credentials.externalId;
}

describe("the Serverless Framework v3 CLI against providers-api", function () {
  this.timeout(180_000);
  const trap = new NetworkTrap();
  let admin: string;
  let orgId: string;
  let deployer: string;
  let prodRole: string;
  let devRole: string;

  before(async function () {
    this.timeout(600_000);
    const { installed, seconds } = await ensureFrameworkInstalled();
    if (installed) console.log(`      (installed serverless@3.40.0 from its lockfile in ${seconds.toFixed(1)} s)`);
    await trap.start();
  });

  after(async () => {
    await trap.stop();
  });

  beforeEach(async () => {
    trap.connections = 0;
    ({ key: admin, orgId } = await newOrg(ORG));
    ({ token: deployer } = await issueAccessKey(harness().application.dataSource.manager, { orgId: fromGlobalId(orgId)!.id, name: "ci", role: Role.DEPLOYER }));
    prodRole = ROLE_ARN("222222222222", "deploy");
    devRole = ROLE_ARN("111111111111", "deploy");
    const prod = await createProvider(admin, orgId, "prod", { aws: { role: { roleArn: prodRole, maxSessionDurationSeconds: 7200 } } });
    const dev = await createProvider(admin, orgId, "dev", { aws: { role: { roleArn: devRole } } });
    sts().addRole(prodRole, { externalId: await externalIdOf(admin, prod), maxSessionDuration: 7200 });
    sts().addRole(devRole, { externalId: await externalIdOf(admin, dev) });
    const serviceId = await createService(admin, await createApp(admin, orgId, "shop"), "api");
    await linkToService(admin, dev, serviceId);
    const prodInstance = await createInstance(admin, serviceId, "prod", "us-east-1");
    await linkToInstance(admin, prod, prodInstance);
    await createParameter(admin, serviceId, "databaseUrl", "postgres://db.internal/shop");
    await createParameter(admin, serviceId, "apiToken", "service-token", { secret: true });
    await createParameter(admin, prodInstance, "apiToken", "prod-secret-token", { secret: true });
    await createParameter(admin, serviceId, "logLevel", "debug");
  });

  it("`serverless print` resolves ${param:…} from the server: the instance's value over the service's, serverless.yml's defaults over the service's", async () => {
    const dir = await serviceFolder(yml(harness().url));
    const result = await serverless(dir, ["print", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: deployer }, trap);
    expect(result.code, result.output).to.equal(0);
    expect(result.output).to.include("DATABASE_URL: postgres://db.internal/shop");
    expect(result.output).to.include("API_TOKEN: prod-secret-token");
    expect(result.output).to.include("LOG_LEVEL: info");
    const [issued] = await harness().application.dataSource.query("SELECT details FROM audit_events WHERE action = 'parameters.issue'");
    expect(issued.details).to.deep.include({ stage: "prod", region: "us-east-1" });
    expect(trap.connections).to.equal(0);
  });

  it("`serverless package` with a DEPLOYER key deploys with the prod provider's session, printed by alias, with no request leaving the machine", async () => {
    const dir = await serviceFolder(yml(harness().url));
    const result = await serverless(dir, ["package", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: deployer }, trap);
    expect(result.code, result.output).to.equal(0);
    expect(result.output).to.include('from the "prod" provider (INSTANCE, session until');
    const [assume, ...more] = sts().callsOf("AssumeRole");
    expect(more, "one session for the whole command").to.have.length(0);
    expect(assume).to.deep.include({ error: null });
    expect(assume.params).to.deep.include({ RoleArn: prodRole, DurationSeconds: "7200", RoleSessionName: `${ORG}.api.prod` });
    const [issued] = await harness().application.dataSource.query("SELECT details, actor_label FROM audit_events WHERE action = 'credentials.issue'");
    expect(issued).to.deep.include({ actor_label: 'org key "ci" (DEPLOYER)' });
    expect(issued.details).to.deep.include({ stage: "prod", region: "us-east-1", providerName: "prod", source: "INSTANCE", stsRequestId: assume.requestId });
    const template = JSON.parse(await readFile(path.join(dir, ".serverless", "cloudformation-template-update-stack.json"), "utf8"));
    expect(template.Resources).to.have.property("HelloLambdaFunction");
    // The plugin is a dev dependency: the function's zip holds the handler, not providers-api.
    expect((await stat(path.join(dir, ".serverless", "api.zip"))).size).to.be.below(64 * 1024);
    expect(trap.connections, "requests the framework tried to send off the machine").to.equal(0);
  });

  it("another stage inherits the service's provider, with the URL from PROVIDERS_API_URL and the key from PROVIDERS_API_KEY", async () => {
    const dir = await serviceFolder(yml(null));
    const result = await serverless(dir, ["package", "--stage", "qa"], { PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: deployer }, trap);
    expect(result.code, result.output).to.equal(0);
    expect(result.output).to.include('from the "dev" provider (SERVICE');
    expect(sts().callsOf("AssumeRole").map((c) => c.params.RoleArn)).to.deep.equal([devRole]);
    expect(trap.connections).to.equal(0);

    // The trap does catch the framework's AWS calls: `info` asks CloudFormation, through it.
    const info = await serverless(dir, ["info", "--stage", "qa"], { PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: deployer, SLS_AWS_REQUEST_MAX_RETRIES: "0" }, trap);
    expect(info.code).to.not.equal(0);
    expect(trap.connections).to.be.above(0);
  });

  it("a key scoped away from the stage stops the command with one clear line, and no session is made", async () => {
    const { token: preview } = await createKey(admin, orgId, { role: "DEPLOYER", scope: { stages: ["feature-*"] }, name: "preview" });
    const dir = await serviceFolder(yml(harness().url));
    const result = await serverless(dir, ["package", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: preview }, trap);
    expect(result.code).to.not.equal(0);
    expect(result.output).to.match(
      /providers-api: no credentials for shop\/api stage prod \(us-east-1\): This access key's scope does not include app "shop", service "api", stage "prod"\. Ask an org admin for a key whose scope covers it\. \(HTTP 403\)/,
    );
    expect(sts().callsOf("AssumeRole")).to.have.length(0);
    const refusals = await harness().application.dataSource.query("SELECT outcome FROM audit_events WHERE action = 'authorization.scope'");
    expect(refusals.map((r: { outcome: string }) => r.outcome)).to.deep.equal(["DENIED"]);
  });

  it("an unreachable server, a revoked key, plain http to another host and a missing key each stop the command with one clear line", async () => {
    const dir = await serviceFolder(yml("http://127.0.0.1:9"));
    const unreachable = await serverless(dir, ["package", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: deployer }, trap);
    expect(unreachable.code).to.not.equal(0);
    expect(unreachable.output).to.match(/providers-api: cannot reach http:\/\/127\.0\.0\.1:9 \(.*\)\. Check custom\.providersApi\.url \/ PROVIDERS_API_URL\./);

    const served = await serviceFolder(yml(harness().url));
    const revoked = await createKey(admin, orgId, { role: "DEPLOYER" });
    await ok(admin, `mutation($id: ID!) { revokeAccessKey(input: { accessKeyId: $id }) { userErrors { code } } }`, { id: revoked.id });
    const refused = await serverless(served, ["package", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: revoked.token }, trap);
    expect(refused.code).to.not.equal(0);
    expect(refused.output).to.include(`providers-api: ${harness().url} refused the access key in SERVERLESS_ACCESS_KEY: The access key is not valid`);

    const plainHttp = await serverless(await serviceFolder(yml("http://providers.example.com")), ["package", "--stage", "prod"], { SERVERLESS_ACCESS_KEY: deployer }, trap);
    expect(plainHttp.code).to.not.equal(0);
    expect(plainHttp.output).to.include("providers-api: refusing to send the access key over plain http to providers.example.com");

    const keyless = await serverless(served, ["package", "--stage", "prod"], {}, trap);
    expect(keyless.code).to.not.equal(0);
    expect(keyless.output).to.include("providers-api: set SERVERLESS_ACCESS_KEY (or PROVIDERS_API_KEY) to a providers-api access key");
    expect(sts().calls).to.have.length(0);
    expect(trap.connections).to.equal(0);
  });
});
