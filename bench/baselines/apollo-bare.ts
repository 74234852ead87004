import "reflect-metadata";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { GraphQLError } from "graphql";
import pg from "pg";
import { buildSchema, Ctx, Field, ObjectType, Query, Resolver } from "type-graphql";
import { serveChild } from "../lib/child.js";

/*
 * Baseline for the trivial authenticated query: the same stack (Apollo Server 5 on express 5,
 * type-graphql with validation on) with one `viewer` field and nothing else. With BASELINE_DATABASE_URL
 * set, the context authenticates with one indexed SELECT of the bearer token's SHA-256 (what any
 * authenticated server must at least do); without it, no database at all.
 */

@ObjectType()
class Viewer {
  @Field() orgId!: string;
}

interface Context {
  orgId: string;
}

@Resolver()
class ViewerResolver {
  @Query(() => Viewer)
  viewer(@Ctx() ctx: Context): Viewer {
    return { orgId: ctx.orgId };
  }
}

async function main() {
  const databaseUrl = process.env.BASELINE_DATABASE_URL;
  const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 10 }) : null;
  const schema = await buildSchema({ resolvers: [ViewerResolver], validate: { forbidUnknownValues: false } });
  const app = express();
  const server = http.createServer(app);
  const apollo = new ApolloServer<Context>({ schema });
  await apollo.start();
  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
        if (!token) throw new GraphQLError("no key", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
        if (!pool) return { orgId: "none" };
        const hash = createHash("sha256").update(token).digest();
        const { rows } = await pool.query("SELECT org_id FROM access_keys WHERE token_hash = $1 AND revoked_at IS NULL", [hash]);
        if (!rows[0]) throw new GraphQLError("bad key", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
        return { orgId: rows[0].org_id };
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serveChild(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
