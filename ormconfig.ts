// The data source the TypeORM CLI uses to generate and run migrations:
//   DATABASE_URL=postgres://root@127.0.0.1:5432/providers_dev npx typeorm migration:generate -d dist/ormconfig.js migrations/Name
import { createDataSource } from "./src/db/data-source.js";

if (!process.env.DATABASE_URL) {
  throw new Error("Set DATABASE_URL to the database the TypeORM CLI should use.");
}

export default createDataSource(process.env.DATABASE_URL);
