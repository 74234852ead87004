import "reflect-metadata";
import { createTestDatabase, startHarness, type Harness } from "./harness.js";

/*
 * Mocha root hooks: one freshly migrated database and one server for the run, every table emptied
 * before each test.
 */
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let current: Harness | undefined;

export function harness(): Harness {
  if (!current) throw new Error("the test server is not running");
  return current;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    database = await createTestDatabase();
    current = await startHarness(database.url);
  },
  async beforeEach() {
    const { application, statements } = harness();
    const tables: Array<{ tablename: string }> = await application.dataSource.query(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'",
    );
    await application.dataSource.query(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(", ")} CASCADE`);
    statements.count = 0;
    harness().logs.length = 0;
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await current?.server.stop();
    await database?.drop();
  },
};
