import { createHash, randomInt } from "node:crypto";
import { crc32 } from "node:zlib";

/* The access key's token: its format, checksum, hash and hint. Only the hash is ever stored. */

const PREFIX = "pvk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 43 base62 characters carry 256 bits of randomness. */
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = new RegExp(`^${PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

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

/** `pvk_AbCd…wxyz`: enough to tell keys apart in a list, too little to use one. */
export const tokenHintOf = (token: string): string => `${token.slice(0, PREFIX.length + 4)}…${token.slice(-4)}`;
