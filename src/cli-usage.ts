/** The command line's help text; shared by the client and the server commands, and loads nothing. */
export const USAGE = `Usage: providers-api <command> [options]

Commands:
  serve                          start the API server (the default)
  migrate [--server-role <role>] apply pending database migrations and exit; with --server-role, then
                                 grant that database role what the server needs and no more (run it
                                 as the owner; serve as the role with DATABASE_MIGRATIONS=check)
  bootstrap --org <slug> [--name <name>]
                                 create the org (if needed) and an admin access key;
                                 the key is printed alone on the last line of stdout
  migrate-profiles --org <slug>  migrate the org's legacy deployment profiles to providers
                                 and print the report as JSON on stdout
  credentials --org <slug> --app <app> --service <service> --stage <stage> [--region <region>] [--duration <seconds>] [--insecure]
                                 print AWS credential_process JSON for that deployment; a client of
                                 the server at PROVIDERS_API_URL, with the key in PROVIDERS_API_KEY.
                                 Plain http is refused except to this machine, unless --insecure
  parameters --org <slug> --app <app> --service <service> --stage <stage> [--region <region>] [--format env|json|dotenv] [--insecure]
                                 print the deployment's effective parameters, secret values
                                 included (default format: env, \`export NAME='value'\` lines for
                                 eval in a POSIX shell); the same client settings as credentials
  rotate-master-key              re-seal every provider and parameter secret with the current master key. With
                                 DATABASE_URL: set PROVIDERS_MASTER_KEY to the new key and list the
                                 old one in PROVIDERS_PREVIOUS_MASTER_KEYS on every server first.
                                 Embedded: a new key is generated in the data folder, and a running
                                 server takes it up.
  audit export --org <slug> [--since <ISO date>] [--format jsonl]
                                 stream the org's audit trail, oldest first, one JSON object a
                                 line on stdout (for a SIEM)
  audit verify [--org <slug>]    check each org's audit hash chain (or one org's) and name the first
                                 broken link; exits with status 3 when a chain is broken
  emit-schema                    write schema/schema.graphql

Configuration comes from the environment; see the README.`;

/** A command used wrongly: printed with the usage, exit code 2. */
export class UsageError extends Error {}
