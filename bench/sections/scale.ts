import type { Section } from "../lib/env.js";
import { median } from "../lib/load.js";
import { body, dashboardQuery } from "../lib/queries.js";
import { seedTree } from "../lib/seed.js";

/** The same page (5 apps × 5 services × 10 instances) of an org with 1,000 instances and of one with 100,000. */
const PAGE = dashboardQuery(5, 5, 10);
const orgs = { small: { slug: "k1", key: "" }, large: { slug: "k100", key: "" } };

export const scale: Section = {
  name: "scale",
  async setup(env) {
    const small = await env.org(orgs.small.slug);
    const large = await env.org(orgs.large.slug);
    orgs.small.key = small.key;
    orgs.large.key = large.key;
    await seedTree(env.dataSource, small.id, 10, 10, 10);
    await seedTree(env.dataSource, large.id, 10, 10, 1000);
  },
  async report(env) {
    const p50 = { small: [] as number[], large: [] as number[] };
    const seconds = Math.max(2, Math.round(env.seconds / 2));
    for (let round = 0; round < 2; round++) {
      for (const size of ["small", "large"] as const) {
        const { slug, key } = orgs[size];
        const result = await env.load(env.api.url, { connections: 1, duration: seconds, headers: { authorization: `Bearer ${key}` }, body: body(PAGE, { slug }) });
        if (result.errors) throw new Error(`the ${slug} page failed ${result.errors} times`);
        p50[size].push(result.p50);
      }
    }
    const [small, large] = [median(p50.small), median(p50.large)];
    return [
      {
        path: "Page latency (250 instances shown), the org grown from 1k to 100k instances, 1 connection",
        api: `p50 ${small} → ${large} ms`,
        baseline: "—",
        ratio: large / small,
        goal: { kind: "max", value: 1.3 },
      },
    ];
  },
};
