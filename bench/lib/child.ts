import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

/*
 * Every server the bench measures runs in a process of its own, so the load generator (this process)
 * never shares an event loop with it. Parent and child talk over the IPC channel: the child says
 * "ready" with its URL, then answers commands (every child answers `rss`).
 */

type Handler = (args: any) => unknown;

interface Message {
  id?: number;
  cmd?: string;
  args?: unknown;
  type?: string;
  url?: string;
  result?: unknown;
  error?: string;
}

/** In a child: answers the parent's commands and samples its own resident memory for the peak. */
export function serveChild(url: string, handlers: Record<string, Handler> = {}): void {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  sampler.unref();
  const all: Record<string, Handler> = {
    rss: () => {
      const { rss, heapUsed, heapTotal } = process.memoryUsage();
      peak = Math.max(peak, rss);
      return { rss, peak, heapUsed, heapTotal };
    },
    /**
     * What the process retains (it runs with --expose-gc): a full garbage collection, and another once
     * V8's concurrent sweeping has handed the freed pages back. Read right after a single collection,
     * the RSS still holds pages V8 is about to release: 175-226 MB in one run where the settled figure
     * was 98-100 MB. Both are answered: `rss` settled, `rssRightAfterGc` the first reading.
     */
    collected: async () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const rssRightAfterGc = process.memoryUsage.rss();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      return { rss, rssRightAfterGc, peak, heapUsed, heapTotal, external };
    },
    /** CPU time this process has used, in microseconds (user + system). */
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    resetPeak: () => {
      peak = process.memoryUsage.rss();
      return peak;
    },
    ...handlers,
  };
  process.on("message", async (message: Message) => {
    const handler = message.cmd ? all[message.cmd] : undefined;
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      process.send!({ id: message.id, result: await handler(message.args) });
    } catch (error) {
      process.send!({ id: message.id, error: (error as Error).message });
    }
  });
  // The parent going away ends the child: a bench never leaves servers behind.
  process.on("disconnect", () => process.exit(0));
  process.send!({ type: "ready", url });
}

export interface Child {
  name: string;
  url: string;
  pid: number;
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  rss(): Promise<{ rss: number; peak: number; heapUsed: number; heapTotal: number }>;
  stop(): Promise<void>;
}

const BENCH_DIST = path.join(__dirname, "..");

/** Starts dist/bench/<script>.js with the environment given, and waits for it to be ready. */
export function startChild(name: string, script: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): Promise<Child> {
  const child: ChildProcess = fork(path.join(BENCH_DIST, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      reject(new Error(`${name} exited with ${code} before it was ready`));
      for (const p of pending.values()) p.reject(new Error(`${name} exited`));
    };
    child.once("exit", onExit);
    child.on("message", (message: Message) => {
      if (message.type === "ready") {
        const handle: Child = {
          name,
          url: message.url!,
          pid: child.pid!,
          call<T>(cmd: string, args?: unknown) {
            const id = nextId++;
            return new Promise<T>((res, rej) => {
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              child.send({ id, cmd, args });
            });
          },
          rss() {
            return handle.call("rss");
          },
          stop() {
            child.off("exit", onExit);
            if (child.exitCode !== null) return Promise.resolve();
            return new Promise<void>((res) => {
              child.once("exit", () => res());
              child.disconnect();
              setTimeout(() => child.kill("SIGKILL"), 5000).unref();
            });
          },
        };
        resolve(handle);
        return;
      }
      const waiting = pending.get(message.id!);
      if (!waiting) return;
      pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(`${name}: ${message.error}`));
      else waiting.resolve(message.result);
    });
  });
}
