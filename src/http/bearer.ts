/** The access key of an `Authorization: Bearer <key>` header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? null;
}
