import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/*
 * The real Serverless Framework v3, installed from test/serverless-e2e/package-lock.json into
 * test/serverless-e2e/node_modules (never part of providers-api's own dependencies), and run as a
 * child process against a service folder of the test's own.
 */

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const FRAMEWORK_DIR = path.join(REPO_ROOT, "test", "serverless-e2e");
const STAMP = path.join(FRAMEWORK_DIR, "node_modules", ".providers-api-lock.sha256");
const CLI = path.join(FRAMEWORK_DIR, "node_modules", "serverless", "bin", "serverless.js");

/**
 * Installs the lockfile's framework unless node_modules already holds exactly that lockfile's
 * install (a stamp of its hash, written after a successful `npm ci`). Returns the seconds spent.
 */
export async function ensureFrameworkInstalled(): Promise<{ installed: boolean; seconds: number }> {
  const lockHash = createHash("sha256").update(await readFile(path.join(FRAMEWORK_DIR, "package-lock.json"))).digest("hex");
  if (existsSync(STAMP) && existsSync(CLI) && (await readFile(STAMP, "utf8")) === lockHash) return { installed: false, seconds: 0 };
  const started = process.hrtime.bigint();
  // No install scripts: the framework needs none, and none of its dependencies' run here.
  await run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], { cwd: FRAMEWORK_DIR, maxBuffer: 16 * 1024 * 1024 });
  await writeFile(STAMP, lockHash);
  return { installed: true, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * A loopback TCP listener given to the framework as its HTTP(S) proxy: the framework's AWS SDK and
 * its dashboard client send every non-loopback request through it, so a connection here is a request
 * that would have left the machine. It refuses every one of them.
 */
export class NetworkTrap {
  connections = 0;
  private readonly server = net.createServer((socket) => {
    this.connections++;
    // A proxy's refusal, so the client fails at once instead of retrying a dropped connection.
    socket.on("error", () => {});
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", () => socket.destroy());
  });
  url = "";

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A service folder: serverless.yml, a handler, and providers-api installed as `npm i -D <path>` does
 * (a devDependency, linked): the framework leaves dev dependencies out of the package it zips.
 */
export async function serviceFolder(serverlessYml: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "providers-api-sls-service-"));
  await writeFile(path.join(dir, "serverless.yml"), serverlessYml);
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "api", private: true, devDependencies: { "providers-api": `file:${REPO_ROOT}` } }));
  await writeFile(path.join(dir, "handler.js"), "module.exports.hello = async () => ({ statusCode: 200, body: 'hello' });\n");
  await mkdir(path.join(dir, "node_modules"));
  await symlink(REPO_ROOT, path.join(dir, "node_modules", "providers-api"), "dir");
  return dir;
}

export interface FrameworkRun {
  code: number;
  output: string;
}

/**
 * Runs `serverless <args>` in the service folder, offline: a fresh HOME (no ~/.aws, no
 * ~/.serverlessrc), no AWS credentials of its own, telemetry, notifications, update checks and the
 * interactive setup off, and every non-loopback request sent to the trap.
 */
export async function serverless(dir: string, args: string[], env: Record<string, string>, trap: NetworkTrap): Promise<FrameworkRun> {
  const home = await mkdtemp(path.join(os.tmpdir(), "providers-api-sls-home-"));
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    USERPROFILE: home,
    CI: "1",
    SLS_TELEMETRY_DISABLED: "1",
    SLS_TRACKING_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    SLS_DISABLE_AUTO_UPDATE: "1",
    SLS_DEPRECATION_DISABLE: "*",
    SLS_GEO_LOCATION: "us",
    AWS_EC2_METADATA_DISABLED: "true",
    HTTP_PROXY: trap.url,
    HTTPS_PROXY: trap.url,
    http_proxy: trap.url,
    https_proxy: trap.url,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    // SLS_DEBUG=* on the test run shows the framework's own debug log in a failure's output.
    ...(process.env.SLS_DEBUG ? { SLS_DEBUG: process.env.SLS_DEBUG } : {}),
    ...env,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: dir, env: childEnv, timeout: Number(process.env.SLS_E2E_TIMEOUT_MS ?? 120_000), maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}
