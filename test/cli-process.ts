import { execFile, spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";

/** The real CLI, run as a child process the way an operator runs it. */
export const CLI = path.join(__dirname, "..", "src", "cli.js");

const execFileAsync = promisify(execFile);

/** Another copy of the CLI (a clone elsewhere) and the folder it runs in. */
export interface Where {
  cli?: string;
  cwd?: string;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a one-shot command to its end without blocking the event loop (the test's servers keep answering). */
export async function runCli(args: string[], env: Record<string, string | undefined>, where: Where = {}): Promise<CliResult> {
  return execFileAsync(process.execPath, [where.cli ?? CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd: where.cwd, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (error: { stdout: string; stderr: string; code: number | null }) => ({ status: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

export interface ServingCli {
  child: ChildProcess;
  /** Everything it wrote, stdout and stderr. */
  output(): string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts a long-running command and waits until it writes `ready`, or until it exits (then `exited` has its code). */
export async function startCli(args: string[], ready: string, env: Record<string, string | undefined>, where: Where = {}): Promise<ServingCli> {
  const child = spawn(process.execPath, [where.cli ?? CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd: where.cwd });
  let output = "";
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => ((output += chunk), (stdout += chunk)));
  child.stderr!.on("data", (chunk) => ((output += chunk), (stderr += chunk)));
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => ((done = true), resolve(code))));
  for (let i = 0; i < 1200 && !done && !output.includes(ready); i++) await new Promise((r) => setTimeout(r, 100));
  if (done) await exited;
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts `serve` and waits until it listens, or until it exits (then `exited` has its code). */
export function startServing(env: Record<string, string | undefined>, where: Where = {}): Promise<ServingCli> {
  return startCli(["serve"], "providers-api is listening", env, where);
}

/**
 * POSTs a GraphQL operation on a connection of its own. A kept-alive connection can be closed by the
 * server's idle timeout just as the next request goes out on it, which fails that request for no
 * reason of the server's.
 */
export function postGraphQL(port: number, key: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path: "/graphql", method: "POST", agent: false, headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "content-length": Buffer.byteLength(body) } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => {
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
