import { ok } from "./client.js";
import { sts } from "./setup.js";

/** Small builders over the public API, so tests read as scenarios. */

export const ROLE_ARN = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/** Creates a provider from createProvider's credential fields, e.g. `{ aws: { role: { roleArn } } }`. */
export async function createProvider(key: string, orgId: string, name: string, credentials: Record<string, unknown>): Promise<string> {
  const data = await ok(
    key,
    `mutation($input: CreateProviderInput!) { createProvider(input: $input) { provider { id } userErrors { code field message } } }`,
    { input: { orgId, name, ...credentials } },
  );
  if (data.createProvider.userErrors.length) throw new Error(JSON.stringify(data.createProvider.userErrors));
  return data.createProvider.provider.id;
}

/** The external id the server generated for an AWS role provider (what its role's trust policy must require). */
export async function externalIdOf(key: string, providerId: string): Promise<string> {
  const data = await ok(key, `query($id: ID!) { node(id: $id) { ... on Provider { credentials { ... on AwsRoleCredentials { externalId } } } } }`, { id: providerId });
  return data.node.credentials.externalId;
}

/**
 * An AWS role provider whose role (`deploy` in `account`) the test STS lets the server assume with the
 * provider's external id, for sessions up to `roleMax` seconds (12 hours unless given).
 */
export async function createTrustedRoleProvider(
  key: string,
  orgId: string,
  name: string,
  account: string,
  options: { maxSessionDurationSeconds?: number; sessionTags?: boolean; roleMax?: number } = {},
): Promise<{ id: string; roleArn: string }> {
  const roleArn = ROLE_ARN(account, "deploy");
  const id = await createProvider(key, orgId, name, {
    aws: { role: { roleArn, maxSessionDurationSeconds: options.maxSessionDurationSeconds, sessionTags: options.sessionTags } },
  });
  sts().addRole(roleArn, { externalId: await externalIdOf(key, id), maxSessionDuration: options.roleMax ?? 43_200 });
  return { id, roleArn };
}

export function createRoleProvider(key: string, orgId: string, name: string, roleArn: string): Promise<string> {
  return createProvider(key, orgId, name, { aws: { role: { roleArn } } });
}

export async function createApp(key: string, orgId: string, name: string): Promise<string> {
  const data = await ok(key, `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } userErrors { message } } }`, {
    input: { orgId, name },
  });
  return data.createApp.app.id;
}

export async function createService(key: string, appId: string, name: string): Promise<string> {
  const data = await ok(key, `mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } userErrors { message } } }`, {
    input: { appId, name },
  });
  return data.createService.service.id;
}

export async function createInstance(key: string, serviceId: string, stage: string, region: string | null = "us-east-1"): Promise<string> {
  const data = await ok(key, `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } userErrors { message } } }`, {
    input: { serviceId, stage, region },
  });
  if (!data.createInstance.instance) throw new Error(JSON.stringify(data.createInstance.userErrors));
  return data.createInstance.instance.id;
}

export async function linkToService(key: string, providerId: string, serviceId: string) {
  const data = await ok(
    key,
    `mutation($input: ServiceProviderInput!) { linkProviderToService(input: $input) { replacedProvider { name } userErrors { code message } } }`,
    { input: { providerId, serviceId } },
  );
  return data.linkProviderToService;
}

export async function linkToInstance(key: string, providerId: string, instanceId: string) {
  const data = await ok(
    key,
    `mutation($input: InstanceProviderInput!) { linkProviderToInstance(input: $input) { replacedProvider { name } userErrors { code message } } }`,
    { input: { providerId, instanceId } },
  );
  return data.linkProviderToInstance;
}

export interface KeyOptions {
  role?: string | null;
  userId?: string | null;
  scope?: { apps?: string[]; services?: string[]; stages?: string[]; linkableProviderIds?: string[]; mayCreateStages?: boolean } | null;
  expiresAt?: string | null;
  name?: string;
}

/** Creates an access key through the API and returns its token and global id. */
export async function createKey(adminKey: string, orgId: string, options: KeyOptions): Promise<{ token: string; id: string }> {
  const data = await ok(
    adminKey,
    `mutation($input: CreateAccessKeyInput!) { createAccessKey(input: $input) { token accessKey { id } userErrors { code field message } } }`,
    { input: { orgId, name: options.name ?? `key ${Math.random().toString(36).slice(2, 8)}`, role: options.role, userId: options.userId, scope: options.scope, expiresAt: options.expiresAt } },
  );
  if (data.createAccessKey.userErrors.length) throw new Error(JSON.stringify(data.createAccessKey.userErrors));
  return { token: data.createAccessKey.token, id: data.createAccessKey.accessKey.id };
}

export async function addMember(adminKey: string, orgId: string, email: string, role: string): Promise<string> {
  const data = await ok(
    adminKey,
    `mutation($input: AddMemberInput!) { addMember(input: $input) { member { user { id } } userErrors { code message } } }`,
    { input: { orgId, email, role } },
  );
  if (data.addMember.userErrors.length) throw new Error(JSON.stringify(data.addMember.userErrors));
  return data.addMember.member.user.id;
}

/** A member with a personal key: what a person in the dashboard acts with. */
export async function memberWithKey(adminKey: string, orgId: string, email: string, role: string): Promise<{ userId: string; token: string }> {
  const userId = await addMember(adminKey, orgId, email, role);
  const { token } = await createKey(adminKey, orgId, { userId, name: `laptop of ${email.split("@")[0]}` });
  return { userId, token };
}

/** Sets a parameter on an org, service or instance (its global id) and returns the parameter's id. */
export async function createParameter(key: string, ownerId: string, name: string, value: string, options: { secret?: boolean; description?: string } = {}): Promise<string> {
  const data = await ok(
    key,
    `mutation($input: CreateParameterInput!) { createParameter(input: $input) { parameter { id } userErrors { code field message } } }`,
    { input: { ownerId, name, value, ...options } },
  );
  if (data.createParameter.userErrors.length) throw new Error(JSON.stringify(data.createParameter.userErrors));
  return data.createParameter.parameter.id;
}
