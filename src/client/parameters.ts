/*
 * `providers-api parameters`: a client of the HTTP API that prints a deployment's effective parameters
 * for a CI step, as JSON, as `export` lines for a POSIX shell, or as a dotenv file.
 */
import { ApiClientError, callMutation, type ApiClientOptions } from "./api.js";

export interface ParametersRequest {
  org: string;
  app: string;
  service: string;
  stage: string;
  region: string | null;
}

export const FORMATS = ["env", "json", "dotenv"] as const;
export type Format = (typeof FORMATS)[number];

const MUTATION = `mutation($input: DeploymentParametersInput!) {
  deploymentParameters(input: $input) {
    parameters { name value }
    userErrors { code field message }
  }
}`;

/**
 * A parameter name as an environment variable: every character other than a letter, digit or `_`
 * becomes `_`, and a leading digit gets a `_` before it (`db.url` → `db_url`, `/prod/key` → `_prod_key`).
 */
export function environmentName(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** Single quotes keep everything literal in sh; a quote inside ends the string, adds an escaped one, and reopens it. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Quoting as the `dotenv` package reads it back exactly (the parser the Serverless Framework's `useDotenv`
 * uses): single quotes are literal; double quotes expand only `\n` and `\r`; backticks are literal. A value
 * none of them can carry is refused rather than written so that it reads back as something else.
 */
function dotenvQuote(name: string, value: string): string {
  if (!value.includes("'") && !value.includes("\r")) return `'${value}'`;
  if (!value.includes('"') && !/\\[nr]/.test(value)) return `"${value.replace(/\r/g, "\\r")}"`;
  if (!value.includes("`") && !value.includes("\r")) return `\`${value}\``;
  throw new ApiClientError(`the value of "${name}" cannot be written in dotenv format (it holds ', " and \` or a carriage return); use --format json or env`);
}

/** The parameters in the format asked for; names that map to one environment variable are refused. */
export function formatParameters(parameters: Array<{ name: string; value: string }>, format: Format): string {
  if (format === "json") return JSON.stringify(Object.fromEntries(parameters.map((p) => [p.name, p.value])), null, 2);
  const seen = new Map<string, string>();
  const lines = parameters.map(({ name, value }) => {
    const variable = environmentName(name);
    const other = seen.get(variable);
    if (other !== undefined) throw new ApiClientError(`the parameters "${other}" and "${name}" would both be the variable ${variable}; rename one, or use --format json`);
    seen.set(variable, name);
    return format === "env" ? `export ${variable}=${shellQuote(value)}` : `${variable}=${dotenvQuote(name, value)}`;
  });
  return lines.join("\n");
}

/** Asks the server for the deployment's effective parameters and returns them formatted. */
export async function parametersOutput(env: NodeJS.ProcessEnv, request: ParametersRequest, format: Format, options: ApiClientOptions = {}): Promise<string> {
  const payload = await callMutation<{ parameters: Array<{ name: string; value: string }>; userErrors: Array<{ message: string }> }>(
    env,
    { query: MUTATION, variables: { input: request }, field: "deploymentParameters" },
    options,
  );
  return formatParameters(payload.parameters, format);
}
