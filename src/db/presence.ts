import os from "node:os";
import type { DataSource, EntityManager } from "typeorm";

/** How often a serving process says it is alive, and after how long without a word it counts as gone. */
export const PRESENCE_INTERVAL_MS = 5000;
export const PRESENCE_TIMEOUT_MS = 3 * PRESENCE_INTERVAL_MS;

export interface LiveServer {
  pid: number;
  hostname: string;
  url: string | null;
  keyIds: string[];
  secondsAgo: number;
}

/**
 * A serving process's row in `server_presence`, refreshed every PRESENCE_INTERVAL_MS with the master key
 * ids it holds. Before each refresh `beforeBeat` may take up new keys (the embedded mode re-reads its key
 * files), so a rotation sees them announced before it seals anything with them.
 */
export class Presence {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataSource: DataSource,
    private readonly id: string,
    private readonly keyIds: () => string[],
    private readonly beforeBeat: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  static async announce(
    dataSource: DataSource,
    options: { url: string; keyIds: () => string[]; beforeBeat?: () => Promise<void>; onError: (error: unknown) => void },
  ): Promise<Presence> {
    // Rows of processes long gone (killed, crashed) tell nobody anything any more.
    await dataSource.query(`DELETE FROM server_presence WHERE seen_at < now() - interval '1 hour'`);
    const [{ id }] = await dataSource.query(`INSERT INTO server_presence (hostname, pid, url, key_ids) VALUES ($1, $2, $3, $4) RETURNING id`, [
      os.hostname(),
      process.pid,
      options.url,
      options.keyIds(),
    ]);
    const presence = new Presence(dataSource, id, options.keyIds, options.beforeBeat ?? (async () => {}), options.onError);
    presence.timer = setInterval(() => {
      presence.beating = presence.beat().catch(presence.onError);
    }, PRESENCE_INTERVAL_MS);
    presence.timer.unref();
    return presence;
  }

  private async beat(): Promise<void> {
    await this.beforeBeat();
    await this.dataSource.query(`UPDATE server_presence SET seen_at = now(), key_ids = $2 WHERE id = $1`, [this.id, this.keyIds()]);
  }

  /** Says goodbye, so a rotation does not wait for this process any more. */
  async withdraw(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    await this.dataSource.query(`DELETE FROM server_presence WHERE id = $1`, [this.id]);
  }
}

/** The serving processes heard from within PRESENCE_TIMEOUT_MS. */
export async function liveServers(em: EntityManager): Promise<LiveServer[]> {
  const rows: Array<{ pid: number; hostname: string; url: string | null; key_ids: string[]; seconds_ago: number }> = await em.query(
    `SELECT pid, hostname, url, key_ids, extract(epoch FROM now() - seen_at)::float AS seconds_ago
       FROM server_presence WHERE seen_at > now() - make_interval(secs => $1) ORDER BY started_at`,
    [PRESENCE_TIMEOUT_MS / 1000],
  );
  return rows.map((r) => ({ pid: r.pid, hostname: r.hostname, url: r.url, keyIds: r.key_ids, secondsAgo: Math.round(r.seconds_ago) }));
}
