import "reflect-metadata";
import { loadConfig } from "../../src/config.js";
import { StatementCounter } from "../../src/db/data-source.js";
import { createLogger } from "../../src/logger.js";
import { openApplication, startServer } from "../../src/server.js";
import { serveChild } from "../lib/child.js";

/*
 * providers-api as it runs in production (the same openApplication and startServer as `serve`, logs at
 * info to a discarded stdout), on a free loopback port. Configured by the parent through the
 * environment: DATABASE_URL, PROVIDERS_MASTER_KEY, AWS_ENDPOINT_URL_STS and the server's AWS identity.
 */
async function main() {
  const config = { ...loadConfig({ ...process.env, PORT: "4000" }), port: 0, host: "127.0.0.1" };
  const logger = createLogger(config.logLevel);
  const statements = new StatementCounter();
  const application = await openApplication(config, logger, { statementCounter: statements, migrate: false });
  const server = await startServer(application, config, logger);
  serveChild(server.url, { statements: () => statements.count });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
