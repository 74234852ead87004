import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The embedded mode's master key: generated on first start into the data folder, readable by
 * the owner only, and read back on every later start.
 */
export async function loadOrCreateMasterKeyFile(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, "master.key");
  try {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a base64-encoded 32-byte key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: process.getuid?.() === 0 ? 0o711 : 0o700 });
  const key = randomBytes(32);
  await writeFile(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}
