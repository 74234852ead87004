import { parseFlags, quoted, UsageError } from "../cli-usage.js";
import { FakeSts, SERVER_IDENTITY, type StsCall } from "./fake-sts-server.js";

/** Where `providers-api dev-sts` listens unless told otherwise: fixed, so the printed settings stay valid across restarts. */
export const DEV_STS_PORT = 4599;

/** The settings a server needs to use this STS, as `export` lines a POSIX shell can paste. */
export function serverSettings(url: string): string[] {
  return [
    `export AWS_ENDPOINT_URL_STS=${url}`,
    "export AWS_REGION=us-east-1",
    `export AWS_ACCESS_KEY_ID=${SERVER_IDENTITY.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${SERVER_IDENTITY.secretAccessKey}`,
    "unset AWS_SESSION_TOKEN AWS_PROFILE",
  ];
}

const describe = (call: StsCall) =>
  `${call.action || "?"}${call.params.RoleArn ? ` ${call.params.RoleArn}` : ""}${call.params.RoleSessionName ? ` as ${call.params.RoleSessionName}` : ""}: ${call.error ?? "ok"}`;

/**
 * `providers-api dev-sts [--port <port>]`: the project's STS test double on 127.0.0.1, accepting any role, so a
 * whole deployment can be tried on a laptop without AWS. It prints the settings a server needs on stdout, one
 * line per STS request on stderr, and stops cleanly on SIGINT or SIGTERM.
 */
export async function devSts(args: string[]): Promise<void> {
  const values = parseFlags("dev-sts", { port: { type: "string", value: "<port>", default: String(DEV_STS_PORT) } }, args);
  const port = Number(values.port);
  if (!/^\d{1,5}$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`dev-sts: --port ${quoted(values.port)} is not a port; give a whole number from 1 to 65535`);
  const sts = new FakeSts();
  sts.acceptAnyRole = true;
  sts.onAnswer = (call) => process.stderr.write(`providers-api dev-sts: ${describe(call)}\n`);
  const url = await sts.start(port).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") throw new Error(`dev-sts: port ${port} on 127.0.0.1 is already in use by another process; stop it, or pass --port <another port>.`);
    if (error.code === "EACCES") throw new Error(`dev-sts: port ${port} needs privileges this process does not have; pass --port 1024 or above.`);
    throw error;
  });
  process.stdout.write(
    [
      `providers-api dev-sts: a local STS test double on ${url} (127.0.0.1 only). THIS IS NOT AWS: the credentials it issues are fake and work nowhere else.`,
      "",
      "Start the server with these settings (its own AWS identity and STS endpoint):",
      ...serverSettings(url).map((line) => `  ${line}`),
      "",
      "Any role ARN arn:aws:iam::<12 digits>:role/<name> is accepted, e.g. arn:aws:iam::111111111111:role/deploy: it trusts",
      `the server's identity (account ${SERVER_IDENTITY.account}) and requires an external id (any: the provider's), with sessions up to 12 hours.`,
      "Ctrl-C stops it.",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`providers-api dev-sts: ${signal}: stopping\n`);
      sts.stop().then(resolve, resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stderr.write("providers-api dev-sts: stopped\n");
}
