import "reflect-metadata";
import { createTestDatabase, startHarness, type Harness } from "./harness.js";
import { FakeSts, SERVER_IDENTITY } from "../src/dev-sts/fake-sts-server.js";
import { isRetryable } from "../src/domain/transaction.js";

/*
 * Mocha root hooks: one freshly migrated database and one server for the run, every table emptied
 * before each test.
 */
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let current: Harness | undefined;
const fakeSts = new FakeSts();

/** The STS endpoint the server talks to, as its own AWS identity (SERVER_IDENTITY). */
export function sts(): FakeSts {
  return fakeSts;
}

export function harness(): Harness {
  if (!current) throw new Error("the test server is not running");
  return current;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    // The server's AWS identity and STS endpoint, through the standard variables the SDK reads.
    process.env.AWS_ENDPOINT_URL_STS = await fakeSts.start();
    process.env.AWS_ACCESS_KEY_ID = SERVER_IDENTITY.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = SERVER_IDENTITY.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    database = await createTestDatabase();
    current = await startHarness(database.url);
  },
  async beforeEach() {
    const { application, statements } = harness();
    const tables: Array<{ tablename: string }> = await application.dataSource.query(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'",
    );
    // The last test's events are sealed before their tables go: the sealer's transaction and the
    // TRUNCATE would otherwise take the same locks in other orders (a deadlock, seen once). Any other
    // work the last test left running can still deadlock with it: PostgreSQL then undoes the TRUNCATE
    // whole, and it is tried again.
    await application.sealer.idle();
    for (let attempt = 1; ; attempt++) {
      try {
        // The audit tables refuse TRUNCATE through triggers; the test's superuser sets them aside, for
        // this transaction only, the way only a superuser can.
        await application.dataSource.transaction(async (tx) => {
          await tx.query("SET LOCAL session_replication_role = replica");
          await tx.query(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(", ")} CASCADE`);
        });
        break;
      } catch (error) {
        if (!isRetryable(error) || attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    statements.count = 0;
    fakeSts.reset();
    harness().logs.length = 0;
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await current?.server.stop();
    await database?.drop();
    await fakeSts.stop();
  },
};
