import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed secret as stored: which key sealed it, and version || iv || tag || ciphertext. */
export interface SealedSecret {
  keyId: string;
  ciphertext: Buffer;
}

export class SecretBoxError extends Error {}

/** Derives a public identifier for a key, so a ciphertext can name its key without revealing it. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update("providers-api/master-key-id/v1\0").update(key).digest("hex").slice(0, 16);
}

/**
 * AES-256-GCM with a key id beside each ciphertext. The associated data binds a ciphertext to the row
 * it belongs to, so a ciphertext copied onto another row fails to open. The only place that holds key material.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private current: string;

  constructor(currentKey: Buffer, previousKeys: Buffer[] = []) {
    if (currentKey.length !== 32) throw new SecretBoxError("the master key must be 32 bytes");
    this.current = keyIdOf(currentKey);
    this.keys.set(this.current, currentKey);
    for (const key of previousKeys) this.keys.set(keyIdOf(key), key);
  }

  /** The key new secrets are sealed with. */
  get currentKeyId(): string {
    return this.current;
  }

  knows(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** Ids of every key this box can open with (never the keys). */
  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Takes up keys a rotation wrote while this process runs: `current` seals from now on, and every key
   * known before stays known, so nothing sealed earlier becomes unreadable here.
   */
  adopt(current: Buffer, others: Buffer[]): void {
    if (current.length !== 32) throw new SecretBoxError("the master key must be 32 bytes");
    for (const key of [current, ...others]) this.keys.set(keyIdOf(key), key);
    this.current = keyIdOf(current);
  }

  seal(plaintext: string, associatedData: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.current)!, iv);
    cipher.setAAD(Buffer.from(associatedData, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return {
      keyId: this.current,
      ciphertext: Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), body]),
    };
  }

  open(sealed: SealedSecret, associatedData: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new SecretBoxError(`no master key with id ${sealed.keyId} is configured`);
    const { ciphertext } = sealed;
    if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT_VERSION) {
      throw new SecretBoxError("the stored secret is not in a format this server can read");
    }
    const iv = ciphertext.subarray(1, 1 + IV_BYTES);
    const tag = ciphertext.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretBoxError("the stored secret failed authentication (wrong key, or it belongs to another row)");
    }
  }
}
