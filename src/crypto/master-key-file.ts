import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/*
 * The embedded mode's master keys, in the data folder, readable by the owner only:
 *   master.key           the current key, generated on first start;
 *   master.key.next      a rotation's new key, written before any secret is re-sealed with it;
 *   master.key.previous  the key a finished rotation replaced.
 * Every one that exists can open secrets, so a rotation interrupted at any point loses nothing.
 */

export interface MasterKeys {
  current: Buffer;
  previous: Buffer[];
}

const file = (dataDir: string, name: string) => path.join(dataDir, name);

async function readKey(dataDir: string, name: string): Promise<Buffer | null> {
  try {
    const key = Buffer.from((await readFile(file(dataDir, name), "utf8")).trim(), "base64");
    if (key.length !== 32) throw new Error(`${file(dataDir, name)} does not hold a base64-encoded 32-byte key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function writeNewKey(dataDir: string, name: string): Promise<Buffer> {
  await mkdir(dataDir, { recursive: true, mode: process.getuid?.() === 0 ? 0o711 : 0o700 });
  const key = randomBytes(32);
  await writeFile(file(dataDir, name), key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}

/** The current key (generated on first start) and every other key the folder still holds. */
export async function loadMasterKeyFiles(dataDir: string): Promise<MasterKeys> {
  const current = (await readKey(dataDir, "master.key")) ?? (await writeNewKey(dataDir, "master.key"));
  const previous = [await readKey(dataDir, "master.key.next"), await readKey(dataDir, "master.key.previous")].filter((k): k is Buffer => k !== null);
  return { current, previous };
}

/** The key a rotation seals with: the one an interrupted rotation already wrote, or a new one. */
export async function rotationKey(dataDir: string): Promise<Buffer> {
  return (await readKey(dataDir, "master.key.next")) ?? (await writeNewKey(dataDir, "master.key.next"));
}

/** After every secret is sealed with the rotation's key: it becomes current, the old one previous. */
export async function finishRotation(dataDir: string): Promise<void> {
  await rename(file(dataDir, "master.key"), file(dataDir, "master.key.previous"));
  await rename(file(dataDir, "master.key.next"), file(dataDir, "master.key"));
}
