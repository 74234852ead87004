import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { createDataSource, migrate } from "../../src/db/data-source.js";
import { SERVER_IDENTITY } from "../../src/dev-sts/fake-sts-server.js";
import { createTestDatabase } from "../../test/harness.js";
import { startChild, type Child } from "./child.js";

/** What every bench run stands on: a migrated database of its own, the loopback STS, and the environment an API process runs with. */
export interface BenchStack {
  database: { url: string };
  /** Migrated, for seeding. */
  dataSource: DataSource;
  sts: Child;
  /** The database, a fresh master key, logs at `info`, and the STS through the standard AWS variables. */
  apiEnv: NodeJS.ProcessEnv;
  /** Starts a server in its own process (see ./child.ts), stopped when the run ends. */
  start(name: string, script: string, env?: NodeJS.ProcessEnv, execArgv?: string[]): Promise<Child>;
  /** Every process started so far, the STS first. */
  children: Child[];
}

/**
 * Runs `run` on a new stack and takes it down afterwards, whatever happened: the processes stopped
 * (last started first), the database dropped. The AWS variables are set in this process too, for
 * seeding through the SDK.
 */
export async function withBenchStack<T>(run: (stack: BenchStack) => Promise<T>): Promise<T> {
  const children: Child[] = [];
  const start = async (name: string, script: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []) => {
    const child = await startChild(name, script, env, execArgv);
    children.push(child);
    return child;
  };
  const database = await createTestDatabase();
  const dataSource = createDataSource(database.url);
  try {
    await dataSource.initialize();
    await migrate(dataSource);
    const sts = await start("fake-sts", "servers/fake-sts.js");
    const awsEnv = {
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ACCESS_KEY_ID: SERVER_IDENTITY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SERVER_IDENTITY.secretAccessKey,
      AWS_REGION: "us-east-1",
    };
    Object.assign(process.env, awsEnv);
    const apiEnv = { DATABASE_URL: database.url, PROVIDERS_MASTER_KEY: randomBytes(32).toString("base64"), LOG_LEVEL: "info", ...awsEnv };
    return await run({ database, dataSource, sts, apiEnv, start, children });
  } finally {
    for (const child of children.reverse()) await child.stop();
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}
