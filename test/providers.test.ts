import { expect } from "chai";
import { gql, newOrg, ok } from "./client.js";
import { createApp, createInstance, createRoleProvider, createService, linkToInstance, linkToService, ROLE_ARN } from "./fixtures.js";
import { harness } from "./setup.js";

const CREATE = `mutation($input: CreateProviderInput!) {
  createProvider(input: $input) {
    provider { id name type kind isDefault credentials {
      __typename
      ... on AwsRoleCredentials { roleArn externalId maxSessionDurationSeconds sessionTags }
      ... on AwsAccessKeyCredentials { accessKeyId issueSessionTokens }
      ... on StripeCredentials { secretKeyHint }
      ... on TwilioCredentials { accountSid authTokenHint }
    } }
    userErrors { code field message }
  }
}`;

const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const STRIPE_KEY = "sk_live_51Habcdefghijklmnopqrstuvwxyz0123";
const TWILIO_TOKEN = "0123456789abcdef0123456789abcdef";

describe("providers", () => {
  let key: string;
  let orgId: string;
  beforeEach(async () => ({ key, orgId } = await newOrg("acme")));

  it("creates each kind and shows a summary that never contains the secret", async () => {
    const role = (await ok(key, CREATE, { input: { orgId, name: "prod", aws: { role: { roleArn: ROLE_ARN("123456789012", "deploy") } } } })).createProvider;
    expect(role.userErrors).to.deep.equal([]);
    expect(role.provider).to.deep.include({ name: "prod", type: "AWS", kind: "AWS_ROLE", isDefault: false });
    expect(role.provider.credentials).to.include({ __typename: "AwsRoleCredentials", roleArn: ROLE_ARN("123456789012", "deploy"), maxSessionDurationSeconds: 3600 });
    expect(role.provider.credentials.externalId).to.match(/^[A-Za-z0-9_-]{32}$/);

    const keys = (await ok(key, CREATE, { input: { orgId, name: "keys", aws: { accessKey: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET_ACCESS_KEY } } } })).createProvider;
    expect(keys.provider.credentials).to.deep.equal({ __typename: "AwsAccessKeyCredentials", accessKeyId: "AKIAIOSFODNN7EXAMPLE", issueSessionTokens: false });

    const stripe = (await ok(key, CREATE, { input: { orgId, name: "stripe", stripe: { secretKey: STRIPE_KEY } } })).createProvider;
    expect(stripe.provider).to.deep.include({ type: "STRIPE", credentials: { __typename: "StripeCredentials", secretKeyHint: "sk_live_…0123" } });

    const twilio = (await ok(key, CREATE, { input: { orgId, name: "twilio", twilio: { accountSid: "AC" + "a".repeat(32), authToken: TWILIO_TOKEN } } })).createProvider;
    expect(twilio.provider).to.deep.include({ type: "TWILIO", credentials: { __typename: "TwilioCredentials", accountSid: "AC" + "a".repeat(32), authTokenHint: "…cdef" } });

    const listed = await gql(key, `query { org(slug: "acme") { providers { totalCount nodes { name } } aws: providers(type: AWS) { totalCount } } }`);
    expect(listed.data.org.providers.nodes.map((p: any) => p.name)).to.deep.equal(["keys", "prod", "stripe", "twilio"]);
    expect(listed.data.org.aws.totalCount).to.equal(2);
    for (const secret of [SECRET_ACCESS_KEY, STRIPE_KEY, TWILIO_TOKEN]) {
      expect(JSON.stringify([role, keys, stripe, twilio, listed])).not.to.include(secret);
      expect(harness().logs.join("")).not.to.include(secret);
    }
  });

  it("answers bad values with userErrors naming the field, and stores nothing", async () => {
    const cases: Array<[object, string, string[]]> = [
      [{ name: "prod", aws: { role: { roleArn: "arn:aws:iam::12:role/x" } } }, "INVALID_ROLE_ARN", ["input", "aws", "role", "roleArn"]],
      [{ name: "prod", aws: { role: { roleArn: ROLE_ARN("123456789012", "r"), maxSessionDurationSeconds: 60 } } }, "INVALID_SESSION_DURATION", ["input", "aws", "role", "maxSessionDurationSeconds"]],
      [{ name: "", aws: { role: { roleArn: ROLE_ARN("123456789012", "r") } } }, "INVALID_NAME", ["input", "name"]],
      [{ name: "keys", aws: { accessKey: { accessKeyId: "nope", secretAccessKey: SECRET_ACCESS_KEY } } }, "INVALID_ACCESS_KEY_ID", ["input", "aws", "accessKey", "accessKeyId"]],
      [{ name: "two", stripe: { secretKey: STRIPE_KEY }, twilio: { accountSid: "AC" + "a".repeat(32), authToken: TWILIO_TOKEN } }, "INVALID_CREDENTIALS", ["input"]],
      [{ name: "none" }, "INVALID_CREDENTIALS", ["input"]],
      [{ name: "x".repeat(300), stripe: { secretKey: STRIPE_KEY } }, "INVALID_NAME", ["input", "name"]],
    ];
    for (const [input, code, field] of cases) {
      const result = await gql(key, CREATE, { input: { orgId, ...input } });
      expect(result.status, code).to.equal(200);
      const payload = result.data.createProvider;
      expect(payload.provider, code).to.equal(null);
      expect(payload.userErrors[0], code).to.include({ code }).and.to.have.deep.property("field", field);
      expect(payload.userErrors[0].message).to.match(/\w+ \w+/);
      expect(JSON.stringify(payload)).not.to.include(SECRET_ACCESS_KEY);
    }
    const [{ count }] = await harness().application.dataSource.query("SELECT count(*)::int AS count FROM providers");
    expect(count).to.equal(0);
  });

  it("refuses a second provider with the same name", async () => {
    await createRoleProvider(key, orgId, "prod", ROLE_ARN("123456789012", "deploy"));
    const again = (await ok(key, CREATE, { input: { orgId, name: "prod", stripe: { secretKey: STRIPE_KEY } } })).createProvider;
    expect(again.userErrors).to.have.length(1);
    expect(again.userErrors[0]).to.include({ code: "NAME_TAKEN" });
  });

  it("renames and replaces credentials, keeping the role's external id and refusing another type", async () => {
    const id = await createRoleProvider(key, orgId, "prod", ROLE_ARN("123456789012", "deploy"));
    const UPDATE = `mutation($input: UpdateProviderInput!) { updateProvider(input: $input) {
      provider { name credentials { ... on AwsRoleCredentials { roleArn externalId } ... on AwsAccessKeyCredentials { accessKeyId } } } userErrors { code field } } }`;
    const before = (await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id })).node;
    const renamed = (await ok(key, UPDATE, { input: { providerId: id, name: "production", aws: { role: { roleArn: ROLE_ARN("123456789012", "deploy-v2") } } } })).updateProvider;
    expect(renamed.provider).to.deep.equal({ name: "production", credentials: { roleArn: ROLE_ARN("123456789012", "deploy-v2"), externalId: before.credentials.externalId } });
    const toKeys = (await ok(key, UPDATE, { input: { providerId: id, aws: { accessKey: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET_ACCESS_KEY } } } })).updateProvider;
    expect(toKeys.provider.credentials).to.deep.equal({ accessKeyId: "AKIAIOSFODNN7EXAMPLE" });
    const wrongType = (await ok(key, UPDATE, { input: { providerId: id, stripe: { secretKey: STRIPE_KEY } } })).updateProvider;
    expect(wrongType).to.deep.equal({ provider: null, userErrors: [{ code: "PROVIDER_TYPE_MISMATCH", field: ["input", "stripe"] }] });
  });

  it("deletes a provider with its links and says how many went", async () => {
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("123456789012", "deploy"));
    const service = await createService(key, await createApp(key, orgId, "app1"), "api");
    const instance = await createInstance(key, service, "prod");
    await linkToService(key, prod, service);
    await linkToInstance(key, prod, instance);
    const deleted = (await ok(key, `mutation($id: ID!) { deleteProvider(input: { providerId: $id }) { deletedProviderId unlinkedServiceCount unlinkedInstanceCount userErrors { code } } }`, { id: prod })).deleteProvider;
    expect(deleted).to.deep.equal({ deletedProviderId: prod, unlinkedServiceCount: 1, unlinkedInstanceCount: 1, userErrors: [] });
    expect((await gql(key, `query($id: ID!) { node(id: $id) { id } }`, { id: prod })).data.node).to.equal(null);
    const again = await gql(key, `mutation($id: ID!) { deleteProvider(input: { providerId: $id }) { deletedProviderId } }`, { id: prod });
    expect(again.errors?.[0].extensions?.code).to.equal("NOT_FOUND");
  });

  it("treats another org's provider exactly like an unknown id", async () => {
    const prod = await createRoleProvider(key, orgId, "prod", ROLE_ARN("123456789012", "deploy"));
    const other = await newOrg("other");
    const unknown = Buffer.from("Provider:00000000-0000-4000-8000-000000000000").toString("base64url");
    const answers = [];
    for (const id of [prod, unknown, "garbage"]) {
      const result = await gql(other.key, `mutation($id: ID!) { updateProvider(input: { providerId: $id, name: "stolen" }) { provider { name } } }`, { id });
      answers.push({ code: result.errors?.[0].extensions?.code, data: result.data });
      expect((await gql(other.key, `query($id: ID!) { node(id: $id) { id } }`, { id })).data.node).to.equal(null);
    }
    expect(answers.map((a) => a.code)).to.deep.equal(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    const mine = await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { name } } }`, { id: prod });
    expect(mine.node.name).to.equal("prod");
    expect((await gql(other.key, `query { org(slug: "acme") { id } }`)).data.org).to.equal(null);
  });

  it("keeps at most one default per type", async () => {
    const a = await createRoleProvider(key, orgId, "a", ROLE_ARN("123456789012", "a"));
    const b = await createRoleProvider(key, orgId, "b", ROLE_ARN("123456789012", "b"));
    const SET = `mutation($id: ID!) { setDefaultProvider(input: { providerId: $id }) { provider { name isDefault } previousDefault { name isDefault } } }`;
    await ok(key, SET, { id: a });
    const second = (await ok(key, SET, { id: b })).setDefaultProvider;
    expect(second).to.deep.equal({ provider: { name: "b", isDefault: true }, previousDefault: { name: "a", isDefault: false } });
    const org = (await ok(key, `{ org(slug: "acme") { defaultProvider { name } } }`)).org;
    expect(org.defaultProvider).to.deep.equal({ name: "b" });
    let refused: unknown;
    await harness().application.dataSource.query("UPDATE providers SET is_default = true").catch((e: unknown) => (refused = e));
    expect(String(refused)).to.match(/unique|duplicate/i);
  });
});
