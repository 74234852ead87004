import { createHash, randomInt } from "node:crypto";
import type { EntityManager } from "typeorm";
import { AccessKey, Org, Role } from "../entities/index.js";
import type { Actor } from "./context.js";
import { UnauthenticatedError } from "./errors.js";

const PREFIX = "pvk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 43 base62 characters carry 256 bits of randomness. */
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = new RegExp(`^${PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function crc32(text: string): number {
  let crc = ~0;
  for (const byte of Buffer.from(text, "utf8")) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function base62(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * `pvk_` + 256 random bits in base62 + a CRC32 checksum, like GitHub's `ghp_` tokens: a secret
 * scanner can recognise a leaked key by its prefix and tell it from random text by its checksum.
 */
export function generateToken(): string {
  let random = "";
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(62)];
  return PREFIX + random + base62(crc32(random), CHECKSUM_LENGTH);
}

export function isWellFormedToken(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const random = token.slice(PREFIX.length, PREFIX.length + RANDOM_LENGTH);
  return token.slice(-CHECKSUM_LENGTH) === base62(crc32(random), CHECKSUM_LENGTH);
}

export const hashToken = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

const hintOf = (token: string) => `${token.slice(0, PREFIX.length + 4)}…${token.slice(-4)}`;

/** A new key; the token is returned once and only its hash is kept. */
export async function issueAccessKey(
  em: EntityManager,
  fields: { orgId: string; name: string; role: Role; expiresAt?: Date | null },
): Promise<{ key: AccessKey; token: string }> {
  const token = generateToken();
  const key = await em.save(
    em.create(AccessKey, {
      orgId: fields.orgId,
      name: fields.name,
      role: fields.role,
      tokenHash: hashToken(token),
      tokenHint: hintOf(token),
      expiresAt: fields.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    }),
  );
  return { key, token };
}

/** How stale `last_used_at` may get before a request writes it again. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The actor behind a bearer token; every failure looks the same to the caller. */
export async function authenticate(em: EntityManager, token: string): Promise<Actor> {
  if (!isWellFormedToken(token)) throw new UnauthenticatedError("The access key is not valid. Send a key created by this server as `Authorization: Bearer <key>`.");
  const key = await em.findOneBy(AccessKey, { tokenHash: hashToken(token) });
  const now = Date.now();
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= now)) {
    throw new UnauthenticatedError("The access key is not valid: it is unknown, revoked or expired. Ask an org admin for a new one.");
  }
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await em.update(AccessKey, { id: key.id }, { lastUsedAt: new Date(now) });
  }
  return { accessKeyId: key.id, accessKeyName: key.name, orgId: key.orgId, role: key.role };
}

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
