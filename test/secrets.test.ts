import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { generateToken, isWellFormedToken } from "../src/domain/access-key-tokens.js";
import { SecretBox } from "../src/crypto/secret-box.js";
import { Provider } from "../src/entities/index.js";
import { createLogger } from "../src/logger.js";
import { openApplication } from "../src/server.js";
import { newOrg, ok } from "./client.js";
import { dumpDatabase, testConfig } from "./harness.js";
import { harness } from "./setup.js";

const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const STRIPE_KEY = "sk_live_51HsecretPartThatMustNeverLeak42";
const TWILIO_TOKEN = "fedcba9876543210fedcba9876543210";


async function createSecretProviders(key: string, orgId: string) {
  const CREATE = `mutation($input: CreateProviderInput!) { createProvider(input: $input) { provider { id } userErrors { code } } }`;
  await ok(key, CREATE, { input: { orgId, name: "keys", aws: { accessKey: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET_ACCESS_KEY } } } });
  await ok(key, CREATE, { input: { orgId, name: "stripe", stripe: { secretKey: STRIPE_KEY } } });
  await ok(key, CREATE, { input: { orgId, name: "twilio", twilio: { accountSid: "AC" + "b".repeat(32), authToken: TWILIO_TOKEN } } });
}

describe("secrets at rest", () => {
  it("a dump of the database holds no provider secret and no access key in plaintext", async () => {
    const { key, orgId } = await newOrg("acme");
    await createSecretProviders(key, orgId);
    const dump = await dumpDatabase(harness().application.dataSource);
    expect(dump).to.include("AKIAIOSFODNN7EXAMPLE"); // the dump is real: non-secret fields are there
    for (const secret of [SECRET_ACCESS_KEY, STRIPE_KEY, TWILIO_TOKEN, key, "EXAMPLEKEY", "NeverLeak"]) {
      expect(dump).not.to.include(secret);
      expect(dump).not.to.include(Buffer.from(secret).toString("hex"));
    }
  });

  it("seals with AES-256-GCM bound to the row: the secret opens on its own row and fails on another", async () => {
    const { key, orgId } = await newOrg("acme");
    await createSecretProviders(key, orgId);
    const { application } = harness();
    const em = application.dataSource.manager;
    const stripe = await em.findOneByOrFail(Provider, { name: "stripe" });
    const twilio = await em.findOneByOrFail(Provider, { name: "twilio" });
    expect(application.services.secrets.open(stripe)).to.deep.equal({ secretKey: STRIPE_KEY });
    expect(stripe.secretKeyId).to.equal(new SecretBox(harness().masterKey).currentKeyId);
    // Copy stripe's ciphertext onto twilio's row: it must not open there.
    await em.query("UPDATE providers SET secret_ciphertext = $1, secret_key_id = $2 WHERE id = $3", [stripe.secretCiphertext, stripe.secretKeyId, twilio.id]);
    const tampered = await em.findOneByOrFail(Provider, { id: twilio.id });
    expect(() => application.services.secrets.open(tampered)).to.throw(/failed authentication/);
  });

  it("a server given another master key refuses to start, naming the fix", async () => {
    const { key, orgId } = await newOrg("acme");
    await createSecretProviders(key, orgId);
    const logger = createLogger("silent");
    let refusal: Error | undefined;
    await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: randomBytes(32) }), logger).then(
      (app) => app.close(),
      (error: Error) => (refusal = error),
    );
    expect(refusal?.message).to.match(/sealed with master key id [0-9a-f]{16}.*PROVIDERS_MASTER_KEY/);
    // With the old key listed as a previous key, it starts.
    const app = await openApplication(
      testConfig({ databaseUrl: harness().databaseUrl, masterKey: randomBytes(32), previousMasterKeys: [harness().masterKey] }),
      logger,
    );
    await app.close();
  });

  it("rotating the master key re-seals every secret, after which the old key is no longer needed", async () => {
    const { key, orgId } = await newOrg("acme");
    await createSecretProviders(key, orgId);
    const logger = createLogger("silent");
    const oldKey = harness().masterKey;
    const newKey = randomBytes(32);
    const rotating = await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: newKey, previousMasterKeys: [oldKey] }), logger);
    try {
      expect(await rotating.services.secrets.resealAll(rotating.dataSource.manager)).to.equal(3);
      expect(await rotating.services.secrets.resealAll(rotating.dataSource.manager)).to.equal(0);
    } finally {
      await rotating.close();
    }
    const rows: Array<{ secret_key_id: string }> = await harness().application.dataSource.query("SELECT DISTINCT secret_key_id FROM providers");
    expect(rows).to.deep.equal([{ secret_key_id: new SecretBox(newKey).currentKeyId }]);
    const after = await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: newKey }), logger);
    try {
      const stripe = await after.dataSource.manager.findOneByOrFail(Provider, { name: "stripe" });
      expect(after.services.secrets.open(stripe)).to.deep.equal({ secretKey: STRIPE_KEY });
    } finally {
      await after.close();
    }
    let refusal: Error | undefined;
    await openApplication(testConfig({ databaseUrl: harness().databaseUrl, masterKey: oldKey }), logger).then(
      (app) => app.close(),
      (error: Error) => (refusal = error),
    );
    expect(refusal?.message).to.match(/sealed with master key id/);
  });
});

describe("access key tokens", () => {
  it("carry a CRC-32 checksum of their random part: a key made before still checks, one changed character does not", () => {
    // Made by the first implementation (a bitwise CRC-32 in JavaScript): keys already handed out keep working.
    const issued = "pvk_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg37cCQ0";
    expect(isWellFormedToken(issued)).to.equal(true);
    expect(isWellFormedToken(issued.replace("g37", "h37"))).to.equal(false);
    expect(isWellFormedToken(issued.slice(0, -1) + "1")).to.equal(false);
    for (let i = 0; i < 20; i++) expect(isWellFormedToken(generateToken())).to.equal(true);
  });
});
