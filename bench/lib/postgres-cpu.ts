import { readdirSync, readFileSync } from "node:fs";

/** Linux's clock tick for /proc's times (USER_HZ, 100 on every mainstream build): 10 ms. */
const TICK_MS = 10;

/**
 * The CPU time, in ms, of every PostgreSQL process on this machine — its backends, its background
 * processes, and (through the postmaster's children's times) those that already exited — or undefined
 * where /proc cannot tell (not Linux, or not allowed to read). On a machine running more than one
 * PostgreSQL it counts them all: the bench is meant for a quiet machine, where only the one under load moves.
 */
export function postgresCpuMs(): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let total = 0;
  let found = false;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": the name may hold spaces, so the fields are counted after its last ")".
    const close = stat.lastIndexOf(")");
    if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
    const fields = stat.slice(close + 2).split(" ");
    // Fields 14–17 of proc(5): utime, stime, cutime, cstime; `fields` starts at field 3.
    total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS;
    found = true;
  }
  return found ? total : undefined;
}
