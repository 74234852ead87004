/*
 * A Serverless Framework v3 plugin that makes providers-api the dashboard its built-in dashboard
 * plugin talks to, for providers (AWS credentials) and parameters (`${param:…}`):
 *
 *   plugins:
 *     - providers-api/serverless-plugin
 *   custom:
 *     providersApi:
 *       url: https://providers.example.com     # or PROVIDERS_API_URL
 *
 * with the access key in SERVERLESS_ACCESS_KEY (or PROVIDERS_API_KEY). The framework's dashboard
 * client takes its base URLs from @serverless/platform-client's domains.json, which no variable
 * overrides; a service plugin is constructed before the dashboard plugin and before its start-up
 * call, so this plugin repoints the loaded domains object in place. It also makes visible what the
 * client hides: that client swallows every error of its provider call and silently deploys with
 * whatever local AWS credentials it finds, so this plugin checks the server and the key at start-up
 * and stops the command with one clear line when the provider call failed.
 *
 * CommonJS, and light: it runs inside the user's framework process and loads nothing of the server.
 */

import path from "node:path";
import { isLoopbackHost } from "../client/api.js";

const PREFIX = "/sls/v1";
const DOMAINS_FILE = ["@serverless", "platform-client", "src", "domains.json"];
const SDK_FILE = ["@serverless", "platform-client", "src", "index.js"];
/** The framework's own list: commands for which the dashboard plugin does not call the dashboard. */
const COMMANDS_WITHOUT_DASHBOARD = new Set(["dashboard", "generate-event", "help", "login", "logout", "plugin"]);
const PREFLIGHT_TIMEOUT_MS = 10_000;
/** How long start-up waits for the dashboard plugin's provider call before leaving the check to the `initialize` hook. */
const DASHBOARD_CALL_WAIT_MS = 120_000;

interface ServerlessError extends Error {
  code?: string;
}

interface Log {
  notice(message: string): void;
  warning(message: string): void;
}

interface AwsProvider {
  getStage(): string;
  getRegion(): string;
  cachedCredentials?: { dashboardProviderAlias?: string } | null;
}

interface Serverless {
  configurationInput: Record<string, any>;
  processedInput: { commands: string[]; options: Record<string, unknown> };
  classes: { Error: new (message: string, code?: string) => ServerlessError };
  getProvider(name: "aws"): AwsProvider;
}

interface ProviderAnswer {
  result?: Array<{ providerName?: string; alias?: string; source?: string; providerDetails?: { expiration?: string | null } }>;
}

type ClientError = Error & { statusCode?: number };

/** What the dashboard plugin's own calls to the server came back with, seen from outside. */
interface Observed {
  providers?: { answer?: ProviderAnswer; error?: ClientError };
  /** The org lookup that comes before the provider call, when it failed (and so no provider call was made). */
  orgError?: ClientError;
  /** Resolves once the provider call (or the org lookup before it) has settled. */
  settled: Promise<void>;
  settle(): void;
}

const observed: Observed = { settled: Promise.resolve(), settle: () => {} };
const WRAPPED = Symbol.for("providers-api.serverless-plugin.wrapped");

/** The framework's copies of a platform-client file, already loaded by its dashboard plugin. */
function loadedModules(file: string[]): Array<{ id: string; exports: any }> {
  const suffix = file.join(path.sep);
  return Object.entries(require.cache)
    .filter(([id, mod]) => id.endsWith(suffix) && mod)
    .map(([id, mod]) => ({ id, exports: mod!.exports }));
}

/** A status and the server's sentence from an error of @serverless/platform-client's request helper. */
function describe(error: Error): string {
  const { statusCode, code, cause } = error as Error & { statusCode?: number; code?: string; cause?: { code?: string } };
  const status = statusCode ? ` (HTTP ${statusCode})` : "";
  const network = code ?? cause?.code;
  return `${error.message || network || "no answer"}${status}`;
}

class ProvidersApiPlugin {
  readonly hooks: Record<string, () => Promise<void> | void> = {};
  private readonly url: string | null = null;
  private readonly key: string | null = null;
  private readonly active: boolean;
  private reported = false;

  constructor(
    private readonly serverless: Serverless,
    _options: Record<string, unknown>,
    private readonly utils: { log?: Log } = {},
  ) {
    const fail = (message: string, code: string): never => {
      throw new serverless.classes.Error(`providers-api: ${message}`, code);
    };
    const configuration = serverless.configurationInput ?? {};
    const command = serverless.processedInput?.commands?.[0] ?? "";
    this.active = !COMMANDS_WITHOUT_DASHBOARD.has(command) && !serverless.processedInput?.options?.help;

    const configured = configuration.custom?.providersApi?.url ?? process.env.PROVIDERS_API_URL;
    if (typeof configured !== "string" || configured.trim() === "") {
      if (!this.active) return;
      fail("set custom.providersApi.url in serverless.yml, or PROVIDERS_API_URL, to your providers-api server (e.g. https://providers.example.com).", "PROVIDERS_API_URL_MISSING");
    }
    let parsed: URL | null = null;
    try {
      parsed = new URL(String(configured).trim());
    } catch {
      // reported below
    }
    if (!parsed || !["http:", "https:"].includes(parsed.protocol)) {
      fail(`the server URL "${configured}" is not an http(s) URL.`, "PROVIDERS_API_URL_INVALID");
    }
    // The key goes out in a header and credentials and secrets come back: over plain http anyone on the path reads them.
    if (parsed!.protocol === "http:" && !isLoopbackHost(parsed!.hostname) && configuration.custom?.providersApi?.insecure !== true) {
      fail(
        `refusing to send the access key over plain http to ${parsed!.host}: anyone on the network path could read it and the credentials. Use https://, or set custom.providersApi.insecure: true if that network is private and trusted.`,
        "PROVIDERS_API_URL_INSECURE",
      );
    }
    this.url = parsed!.toString().replace(/\/+$/, "");
    this.repointDomains(this.url, fail);
    // The dashboard's monitoring, log collection and deployment records are not part of providers-api:
    // with monitoring off the dashboard plugin only asks for providers and parameters.
    configuration.dashboard = { ...(configuration.dashboard ?? {}), disableMonitoring: true };
    if (!this.active) return;

    if (!process.env.SERVERLESS_ACCESS_KEY && process.env.PROVIDERS_API_KEY) process.env.SERVERLESS_ACCESS_KEY = process.env.PROVIDERS_API_KEY;
    this.key = process.env.SERVERLESS_ACCESS_KEY ?? null;
    if (!this.key) {
      // Without it the dashboard plugin would use a Serverless Inc. login from ~/.serverlessrc.
      fail("set SERVERLESS_ACCESS_KEY (or PROVIDERS_API_KEY) to a providers-api access key; a DEPLOYER key is enough to deploy.", "PROVIDERS_API_KEY_MISSING");
    }
    const missing = ["org", "app", "service"].filter((name) => typeof configuration[name] !== "string" || !configuration[name]);
    if (missing.length > 0) fail(`set ${missing.join(", ")} in serverless.yml: the server resolves providers and parameters by org, app and service.`, "PROVIDERS_API_CONFIG_MISSING");
    this.observeDashboardCalls();
    // Normally reported at the end of start-up (asyncInit); this catches a provider call that came late.
    this.hooks.initialize = () => this.reportCredentials();
  }

  /** Checks, before anything is deployed, that the server answers and takes the key for this org. */
  async asyncInit(): Promise<void> {
    if (!this.active || !this.url || !this.key) return;
    const org = String(this.serverless.configurationInput.org);
    let response: Response;
    try {
      response = await fetch(`${this.url}${PREFIX}/core/tenants/${encodeURIComponent(org)}`, {
        headers: { authorization: `Bearer ${this.key}` },
        signal: AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS),
        // A redirect could lead the key somewhere the checks above never saw.
        redirect: "manual",
      });
    } catch (error) {
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s` : describe(error as Error);
      throw new this.serverless.classes.Error(`providers-api: cannot reach ${this.url} (${reason}). Check custom.providersApi.url / PROVIDERS_API_URL.`, "PROVIDERS_API_UNREACHABLE");
    }
    if (response.ok) return this.awaitDashboardCall();
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    const reason = body.message ?? `HTTP ${response.status}`;
    const what =
      response.status === 401
        ? `${this.url} refused the access key in SERVERLESS_ACCESS_KEY: ${reason}`
        : response.status === 404
          ? `the org "${org}" is not the access key's org on ${this.url}.`
          : `${this.url} answered HTTP ${response.status}: ${reason}`;
    throw new this.serverless.classes.Error(`providers-api: ${what}`, "PROVIDERS_API_REFUSED");
  }

  /**
   * Waits for the dashboard plugin's provider call, which runs beside this start-up, and reports it:
   * a failure stops the command here, before `${param:…}` and the rest of the configuration are
   * resolved (their own errors would otherwise come first, in the framework's words).
   */
  private async awaitDashboardCall(): Promise<void> {
    if (this.serverless.processedInput.options["use-local-credentials"]) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DASHBOARD_CALL_WAIT_MS);
      timer.unref();
    });
    await Promise.race([observed.settled, waited]);
    clearTimeout(timer);
    this.reportCredentials();
  }

  /** Every loaded copy of the client's domains: core and providers go to this server, the rest nowhere else. */
  private repointDomains(url: string, fail: (message: string, code: string) => never): void {
    const domains = loadedModules(DOMAINS_FILE);
    if (domains.length === 0) {
      fail("this Serverless Framework did not load @serverless/platform-client; the plugin works with Serverless Framework v3.", "PROVIDERS_API_UNSUPPORTED_FRAMEWORK");
    }
    for (const { exports } of domains) {
      for (const stage of Object.values(exports as Record<string, Record<string, string>>)) {
        // Endpoints providers-api does not serve answer 404 from it, rather than receive the key elsewhere.
        for (const name of Object.keys(stage)) stage[name] = `${url}${PREFIX}/unsupported/${name}`;
        stage.core = `${url}${PREFIX}`;
        stage.providers = `${url}${PREFIX}`;
        stage.dashboard = url;
      }
    }
  }

  /** Records what the dashboard plugin's provider call returned or threw; it swallows errors itself. */
  private observeDashboardCalls(): void {
    delete observed.providers;
    delete observed.orgError;
    observed.settled = new Promise((resolve) => (observed.settle = resolve));
    for (const { exports } of loadedModules(SDK_FILE)) {
      const prototype = exports?.ServerlessSDK?.prototype;
      if (!prototype || prototype[WRAPPED]) continue;
      prototype[WRAPPED] = true;
      for (const method of ["getOrgByName", "getProvidersByOrgServiceInstance"]) {
        const original = prototype[method];
        prototype[method] = async function (this: unknown, ...args: unknown[]) {
          try {
            const answer = await original.apply(this, args);
            if (method === "getProvidersByOrgServiceInstance") {
              observed.providers = { answer };
              observed.settle();
            }
            return answer;
          } catch (error) {
            if (method === "getProvidersByOrgServiceInstance") observed.providers = { error: error as ClientError };
            else observed.orgError ??= error as ClientError;
            observed.settle();
            throw error;
          }
        };
      }
    }
  }

  /** After the dashboard plugin's start-up call: stop on a failure it swallowed, otherwise say where credentials come from. */
  private reportCredentials(): void {
    if (this.reported) return;
    const provider = this.serverless.getProvider("aws");
    const stage = String(this.serverless.processedInput.options.stage ?? provider.getStage());
    const region = String(this.serverless.processedInput.options.region ?? provider.getRegion());
    const where = `${this.serverless.configurationInput.app}/${this.serverless.configurationInput.service} stage ${stage} (${region})`;
    const outcome = observed.providers ?? (observed.orgError ? { error: observed.orgError } : null);
    if (!outcome) return; // --use-local-credentials, or not asked yet: the dashboard plugin did not ask.
    this.reported = true;
    if (outcome.error) {
      throw new this.serverless.classes.Error(`providers-api: no credentials for ${where}: ${describe(outcome.error)}`, "PROVIDERS_API_CREDENTIALS_REFUSED");
    }
    const aws = outcome.answer?.result?.find((entry) => entry.providerName === "aws");
    const log = this.utils.log;
    if (!aws) {
      const message = `providers-api: no AWS provider is linked for ${where}; using your local AWS credentials.`;
      if (log) log.warning(message);
      else process.stderr.write(`${message}\n`);
      return;
    }
    const until = aws.providerDetails?.expiration ? `, session until ${aws.providerDetails.expiration}` : "";
    const message = `providers-api: AWS credentials for ${where} from the "${aws.alias}" provider (${aws.source ?? "linked"}${until})`;
    if (log) log.notice(message);
    else process.stderr.write(`${message}\n`);
  }
}

export = ProvidersApiPlugin;
