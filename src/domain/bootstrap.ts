import type { EntityManager } from "typeorm";
import { Org, Role } from "../entities/index.js";
import { issueAccessKey } from "./access-keys.js";

/** Creates the org if needed and an admin key for it: how an operator starts, or recovers access. */
export async function bootstrapOrg(
  em: EntityManager,
  slug: string,
  name: string,
): Promise<{ org: Org; created: boolean; token: string }> {
  return em.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('providers-api/bootstrap/' || $1))", [slug]);
    let org = await tx.findOneBy(Org, { slug });
    const created = !org;
    if (!org) org = await tx.save(tx.create(Org, { slug, name }));
    const { token } = await issueAccessKey(tx, { orgId: org.id, name: "bootstrap admin key", role: Role.ADMIN });
    return { org, created, token };
  });
}
