import type { Section } from "../lib/env.js";
import { auditFile } from "./audit-file.js";
import { cli } from "./cli.js";
import { dashboard } from "./dashboard.js";
import { failure } from "./failure.js";
import { deploy } from "./deploy.js";
import { scale } from "./scale.js";
import { trivial } from "./trivial.js";

/** Every section `npm run bench` runs, in order; BENCH_ONLY=name,name runs some of them. */
export const sections: Section[] = [trivial, dashboard, deploy, auditFile, scale, cli, failure];
