import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { serveChild } from "../lib/child.js";

/*
 * Baseline for the dashboard page: node:http and pg, one SQL statement that authenticates the key,
 * pages apps → services → instances (first 100 of each, by the API's orderings) and resolves each
 * instance's AWS provider by the API's rules (instance, stage-wide instance, service, org default),
 * then the same JSON the API answers, byte for byte (the bench checks before timing it).
 * The org slug is the request body's `variables.slug`.
 */
const PAGE = `
WITH k AS (SELECT org_id FROM access_keys
            WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())),
     o AS (SELECT orgs.id FROM orgs JOIN k ON k.org_id = orgs.id WHERE orgs.slug = $2),
     a AS (SELECT apps.id, apps.name FROM apps JOIN o ON apps.org_id = o.id ORDER BY apps.name, apps.id LIMIT 100)
SELECT a.id AS app_id, a.name AS app, s.id AS service_id, s.name AS service, i.id AS instance_id, i.stage, i.region,
       COALESCE(pi.name, ps.name, pv.name, pd.name) AS provider,
       CASE WHEN pi.name IS NOT NULL OR ps.name IS NOT NULL THEN 'INSTANCE' WHEN pv.name IS NOT NULL THEN 'SERVICE'
            WHEN pd.name IS NOT NULL THEN 'ORG_DEFAULT' END AS source
  FROM a
  LEFT JOIN LATERAL (SELECT id, name FROM services WHERE app_id = a.id ORDER BY name, id LIMIT 100) s ON true
  LEFT JOIN LATERAL (SELECT id, service_id, stage, region FROM instances WHERE service_id = s.id
                      ORDER BY stage || '/' || coalesce(region, ''), id LIMIT 100) i ON true
  LEFT JOIN instance_provider_links il ON il.instance_id = i.id AND il.provider_type = 'AWS'
  LEFT JOIN providers pi ON pi.id = il.provider_id
  LEFT JOIN instances si ON i.region IS NOT NULL AND si.service_id = i.service_id AND si.stage = i.stage AND si.region IS NULL
  LEFT JOIN instance_provider_links sl ON sl.instance_id = si.id AND sl.provider_type = 'AWS'
  LEFT JOIN providers ps ON ps.id = sl.provider_id
  LEFT JOIN service_provider_links svl ON svl.service_id = s.id AND svl.provider_type = 'AWS'
  LEFT JOIN providers pv ON pv.id = svl.provider_id
  LEFT JOIN providers pd ON pd.org_id = (SELECT id FROM o) AND pd.type = 'AWS' AND pd.is_default
 ORDER BY a.name, a.id, s.name, s.id, i.stage || '/' || coalesce(i.region, ''), i.id`;

interface Row {
  app_id: string;
  app: string;
  service_id: string | null;
  service: string | null;
  instance_id: string | null;
  stage: string;
  region: string | null;
  provider: string | null;
  source: string | null;
}

function page(rows: Row[]) {
  const apps: Array<{ name: string; services: { nodes: Array<{ name: string; instances: { nodes: unknown[] } }> } }> = [];
  let appId = "";
  let serviceId = "";
  for (const row of rows) {
    if (row.app_id !== appId) {
      appId = row.app_id;
      serviceId = "";
      apps.push({ name: row.app, services: { nodes: [] } });
    }
    const services = apps[apps.length - 1].services.nodes;
    if (!row.service_id) continue;
    if (row.service_id !== serviceId) {
      serviceId = row.service_id;
      services.push({ name: row.service!, instances: { nodes: [] } });
    }
    if (!row.instance_id) continue;
    services[services.length - 1].instances.nodes.push({
      stage: row.stage,
      region: row.region,
      effectiveProvider: row.source ? { source: row.source, provider: { name: row.provider } } : null,
    });
  }
  return apps;
}

async function main() {
  const pool = new pg.Pool({ connectionString: process.env.BASELINE_DATABASE_URL, max: 10 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
        const { variables } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const hash = createHash("sha256").update(token).digest();
        const { rows } = await pool.query<Row>(PAGE, [hash, variables.slug]);
        const org = rows.length ? { apps: { nodes: page(rows) } } : null;
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(`${JSON.stringify({ data: { org } })}\n`);
      } catch (error) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serveChild(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
