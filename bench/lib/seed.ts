import type { DataSource } from "typeorm";

/**
 * apps × services × instances in one org, by SQL (fast enough for 100k instances): every even service
 * linked to `dev`, every `prod` instance to `prod`, the rest resolving to nothing (local credentials),
 * so the page shows all three outcomes.
 */
export async function seedTree(db: DataSource, orgId: string, apps: number, services: number, instances: number): Promise<void> {
  const [dev] = await db.query(
    `INSERT INTO providers (org_id, name, type, kind, settings) VALUES ($1, 'dev', 'AWS', 'AWS_ROLE', '{"roleArn":"arn:aws:iam::111111111111:role/d"}') RETURNING id`,
    [orgId],
  );
  const [prod] = await db.query(
    `INSERT INTO providers (org_id, name, type, kind, settings) VALUES ($1, 'prod', 'AWS', 'AWS_ROLE', '{"roleArn":"arn:aws:iam::222222222222:role/p"}') RETURNING id`,
    [orgId],
  );
  await db.query(
    `WITH a AS (INSERT INTO apps (org_id, name) SELECT $1, 'app' || g FROM generate_series(1, $2) g RETURNING id),
          s AS (INSERT INTO services (org_id, app_id, name) SELECT $1, a.id, 'svc' || g FROM a, generate_series(1, $3) g RETURNING id, name),
          sl AS (INSERT INTO service_provider_links (service_id, provider_type, provider_id, org_id)
                 SELECT s.id, 'AWS', $5, $1 FROM s WHERE substring(s.name from 4)::int % 2 = 0),
          i AS (INSERT INTO instances (org_id, service_id, stage, region)
                SELECT $1, s.id, CASE WHEN g = 1 THEN 'prod' ELSE 'stage' || g END, 'us-east-1' FROM s, generate_series(1, $4) g RETURNING id, stage)
     INSERT INTO instance_provider_links (instance_id, provider_type, provider_id, org_id) SELECT i.id, 'AWS', $6, $1 FROM i WHERE i.stage = 'prod'`,
    [orgId, apps, services, instances, dev.id, prod.id],
  );
  await db.query("ANALYZE");
}
