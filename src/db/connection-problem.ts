import { ConfigError } from "../config.js";

/**
 * Why DATABASE_URL's database could not be opened, as one line that names the variable and the fix —
 * never the driver's stack, never the password. Null for a failure that is not about reaching it.
 */
export function databaseUrlProblem(error: unknown, databaseUrl: string): ConfigError | null {
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || 5432}`;
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "(the user's own)";
  const user = decodeURIComponent(url.username) || "(the operating system user)";
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const say = (what: string) => new ConfigError(`DATABASE_URL: ${what}`);
  switch (code) {
    case "ECONNREFUSED":
      return say(`nothing accepts connections at ${where}. Check the host and port in DATABASE_URL, and that PostgreSQL is running there.`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return say(`the host "${url.hostname}" is not known. Fix the host in DATABASE_URL.`);
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return say(`${where} cannot be reached. Check the host and port in DATABASE_URL, and any firewall between.`);
    case "3D000":
      return say(`PostgreSQL at ${where} has no database "${database}". Create it (\`createdb ${database}\`) or fix the database name in DATABASE_URL.`);
    case "28000":
      return say(`PostgreSQL at ${where} does not let user "${user}" in (${message}). Fix the user in DATABASE_URL, or create the role.`);
    case "28P01":
      return say(`PostgreSQL at ${where} refused the password for user "${user}". Fix the password in DATABASE_URL.`);
    case "42501":
      return say(`user "${user}" may not connect to database "${database}" at ${where}. Grant it CONNECT, or use another user in DATABASE_URL.`);
    default:
      if (typeof message === "string" && /password must be a string/.test(message)) {
        return say(`PostgreSQL at ${where} asks user "${user}" for a password, and DATABASE_URL has none. Add it: postgres://${user}:<password>@${where}/${database}.`);
      }
      if (typeof message === "string" && /timeout/i.test(message) && /connect/i.test(message)) {
        return say(`${where} did not answer in time. Check the host and port in DATABASE_URL, and that PostgreSQL is running there.`);
      }
      return null;
  }
}
