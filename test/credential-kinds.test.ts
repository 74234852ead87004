import { expect } from "chai";
import { isInputObjectType, isUnionType, type GraphQLInputType } from "graphql";
import { CredentialKind, ProviderType } from "../src/entities/index.js";
import { awsRole } from "../src/domain/credential-kinds/aws-role.js";
import { CREDENTIAL_KINDS, type CredentialKindDefinition, type CredentialKindRegistry } from "../src/domain/credential-kinds/index.js";
import { stripe } from "../src/domain/credential-kinds/stripe.js";
import { twilio } from "../src/domain/credential-kinds/twilio.js";
import { buildApiSchema } from "../src/graphql/schema.js";

/*
 * Type-level checks, compiled by `npm run build` with the rest of the tests: each `@ts-expect-error`
 * below must meet an error, or the build fails ("Unused '@ts-expect-error' directive"). So if the
 * registry stopped catching a missing kind, or a definition stopped needing a piece, the build breaks.
 */

// A kind that leaves out how its credentials are minted is not a definition.
// @ts-expect-error -- 'mint' is missing
const incomplete: CredentialKindDefinition<CredentialKind.STRIPE_SECRET_KEY, { secretKey: string }, { secretKey: string }> = {
  kind: CredentialKind.STRIPE_SECRET_KEY,
  type: ProviderType.STRIPE,
  inputPath: ["stripe"],
  validate: () => [],
  store: (input) => ({ settings: {}, secret: input }),
  summary: () => ({ kind: CredentialKind.STRIPE_SECRET_KEY }),
  verify: null,
};

// A registry that lacks a kind (here: AWS access keys) does not compile.
// @ts-expect-error -- property AWS_ACCESS_KEY is missing
const missingKind: CredentialKindRegistry = {
  [CredentialKind.AWS_ROLE]: awsRole,
  [CredentialKind.STRIPE_SECRET_KEY]: stripe,
  [CredentialKind.TWILIO_AUTH_TOKEN]: twilio,
};

// A definition filed under another kind's key does not compile either.
const misfiled: CredentialKindRegistry = {
  ...CREDENTIAL_KINDS,
  // @ts-expect-error -- Stripe's definition under Twilio's key
  [CredentialKind.TWILIO_AUTH_TOKEN]: stripe,
};

describe("credential kinds", () => {
  it("has a definition for every CredentialKind, filed under its own kind", () => {
    expect(Object.keys(CREDENTIAL_KINDS).sort()).to.deep.equal(Object.values(CredentialKind).sort());
    for (const [key, definition] of Object.entries(CREDENTIAL_KINDS)) expect(definition.kind).to.equal(key);
    // The type-level fixtures above are values too; they exist only to be compiled.
    expect([incomplete, missingKind, misfiled]).to.have.length(3);
  });

  it("gives every kind its fields in the provider inputs and a member of ProviderCredentials in the schema", async () => {
    const schema = await buildApiSchema();
    const fieldAt = (type: GraphQLInputType, path: readonly string[]): GraphQLInputType | null => {
      if (path.length === 0) return type;
      if (!isInputObjectType(type)) return null;
      const field = type.getFields()[path[0]];
      return field ? fieldAt(field.type, path.slice(1)) : null;
    };
    const union = schema.getType("ProviderCredentials");
    expect(isUnionType(union)).to.equal(true);
    const members = isUnionType(union) ? union.getTypes().length : 0;
    expect(members).to.equal(Object.keys(CREDENTIAL_KINDS).length);
    for (const inputName of ["CreateProviderInput", "UpdateProviderInput"]) {
      const input = schema.getType(inputName) as GraphQLInputType;
      for (const definition of Object.values(CREDENTIAL_KINDS)) {
        expect(fieldAt(input, definition.inputPath), `${inputName}.${definition.inputPath.join(".")}`).to.not.equal(null);
      }
    }
  });

  it("keeps no secret in what a provider shows: the summary is built from the settings alone", () => {
    const stored = stripe.store({ secretKey: "sk_live_abcdefghijklmnop1234" }, null);
    expect(stored.secret).to.deep.equal({ secretKey: "sk_live_abcdefghijklmnop1234" });
    expect(JSON.stringify(stripe.summary(stored.settings))).to.not.contain("abcdefghijklmnop");
    expect(stripe.summary(stored.settings)).to.deep.equal({ kind: CredentialKind.STRIPE_SECRET_KEY, secretKeyHint: "sk_live_…1234" });
    const token = "fedcba9876543210fedcba9876543210";
    const twilioStored = twilio.store({ accountSid: "AC0123456789abcdef0123456789abcdef", authToken: token }, null);
    expect(JSON.stringify(twilioStored.settings)).to.not.contain(token.slice(0, 28));
  });

  it("keeps a role's external id when its credentials are replaced, and makes a new one for a new role", () => {
    const first = awsRole.store({ roleArn: "arn:aws:iam::123456789012:role/a" }, null).settings;
    const replaced = awsRole.store({ roleArn: "arn:aws:iam::123456789012:role/b" }, first).settings;
    expect(replaced.externalId).to.equal(first.externalId);
    expect(awsRole.store({ roleArn: "arn:aws:iam::123456789012:role/b" }, null).settings.externalId).to.not.equal(first.externalId);
  });
});
