import { ok } from "./client.js";

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
