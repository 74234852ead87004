import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse } from "graphql";
import { gql, newOrg } from "./client.js";
import { runCli } from "./cli-process.js";
import { harness, sts } from "./setup.js";

/*
 * The README's walkthrough, run as a reader runs it: each shell line of it, in order, against the real
 * server (the fake STS standing in for AWS), with the operation it names taken from the README's own
 * GraphQL blocks, its variables from the line, and what it captures kept for the lines after it. An
 * answer the README shows (a json block after a line) must be the answer the server gives. A line the
 * test does not understand fails it, so the walkthrough cannot grow a step that nothing runs.
 */

const README = path.join(__dirname, "..", "..", "README.md");

interface Block {
  lang: string;
  text: string;
}

function walkthroughBlocks(): Block[] {
  const readme = readFileSync(README, "utf8");
  const start = readme.indexOf("<!-- walkthrough -->");
  const end = readme.indexOf("<!-- /walkthrough -->");
  expect(start, "README.md has a walkthrough").to.be.greaterThan(-1);
  const blocks: Block[] = [];
  for (const match of readme.slice(start, end).matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) blocks.push({ lang: match[1], text: match[2] });
  return blocks;
}

/** The README's operations by name: what `operation NAME` finds. */
function operationsOf(blocks: Block[]): Map<string, string> {
  const operations = new Map<string, string>();
  for (const block of blocks.filter((b) => b.lang === "graphql")) {
    const document = parse(block.text); // a block that is not GraphQL fails here
    const [first] = document.definitions;
    expect(first.kind === "OperationDefinition" && first.name, `a walkthrough block starts with a named operation:\n${block.text}`).to.be.ok;
    const name = (first as { name: { value: string } }).name.value;
    expect(operations.has(name), `two walkthrough operations are named ${name}`).to.equal(false);
    operations.set(name, block.text);
  }
  return operations;
}

/** `.data.a.b` or `.data.node | map_values(.provider.name)`: the few jq filters the walkthrough uses. */
function jqFilter(filter: string, value: unknown): unknown {
  const at = (path: string, from: unknown) => (path === "." ? from : path.slice(1).split(".").reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], from));
  const mapped = /^(\.[\w.]*) \| map_values\((\.[\w.]+)\)$/.exec(filter);
  if (mapped) return Object.fromEntries(Object.entries(at(mapped[1], value) as object).map(([k, v]) => [k, at(mapped[2], v)]));
  expect(filter, "a jq filter the walkthrough test knows").to.match(/^\.[\w.]*$/);
  return at(filter, value);
}

/** Every `userErrors` list anywhere in an answer. */
function userErrorsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(userErrorsIn);
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => (key === "userErrors" ? (inner as unknown[]) : userErrorsIn(inner)));
  }
  return [];
}

const GQL_LINE = /^(?:([A-Z_0-9]+)=\$\()?gql (\w+)((?: --arg \w+ (?:"\$[A-Z_0-9]+"|[^\s"$|)]+))*)(?: \| jq (?:-r )?(?:'([^']+)'|([^\s)]+)))?\)?$/;
const CLI_LINE = /^npm run cli -- credentials((?: --[a-z]+ [\w-]+)+)$/;

describe("the README's walkthrough", function () {
  this.timeout(120_000);

  it("runs as written, step by step, against the real server, and answers what it shows", async () => {
    const { key } = await newOrg("acme");
    const blocks = walkthroughBlocks();
    const operations = operationsOf(blocks);
    const shell: Record<string, string> = {};
    const ran: string[] = [];
    let printed: { line: string; value: unknown } | null = null;

    for (const block of blocks) {
      if (block.lang === "json") {
        expect(printed, "a json block follows a line that prints an answer").not.to.equal(null);
        expect(printed!.value, `the answer of \`${printed!.line}\``).to.deep.equal(JSON.parse(block.text));
        printed = null;
        continue;
      }
      if (block.lang !== "sh") continue;
      if (block.text.includes("gql() {")) continue; // the helpers: checked by the next test
      for (const line of block.text.split("\n").filter((l) => l.trim() && !l.startsWith("#"))) {
        const cli = CLI_LINE.exec(line);
        if (cli) {
          const result = await runCli(["credentials", ...cli[1].trim().split(" ")], { PROVIDERS_API_URL: harness().url, PROVIDERS_API_KEY: key });
          expect(result.status, result.stderr).to.equal(0);
          const output = JSON.parse(result.stdout);
          expect(output).to.include({ Version: 1 });
          expect(output.AccessKeyId).to.match(/^ASIA/);
          ran.push("credentials (CLI)");
          continue;
        }
        const call = GQL_LINE.exec(line);
        expect(call, `a walkthrough line the test understands: ${line}`).not.to.equal(null);
        const [, capture, name, args, quotedFilter, bareFilter] = call!;
        const operation = operations.get(name);
        expect(operation, `the README has an operation named ${name}`).to.be.a("string");
        const variables: Record<string, string> = {};
        for (const [, variable, value] of args.matchAll(/ --arg (\w+) ("\$[A-Z_0-9]+"|[^\s"$|)]+)/g)) {
          const fromShell = /^"\$([A-Z_0-9]+)"$/.exec(value);
          if (fromShell) expect(shell, `${line} uses $${fromShell[1]} before a line sets it`).to.have.property(fromShell[1]);
          variables[variable] = fromShell ? shell[fromShell[1]] : value;
        }
        const answer = await gql(key, operation!, variables);
        expect(answer.errors, line).to.equal(undefined);
        expect(userErrorsIn(answer.data), line).to.deep.equal([]);
        // What stands in for AWS learns each role the walkthrough creates, and trusts it as its trust policy would.
        for (const created of Object.values(answer.data as Record<string, { provider?: { credentials?: { roleArn?: string; externalId?: string } } }>)) {
          const role = created?.provider?.credentials;
          if (role?.roleArn) sts().addRole(role.roleArn, { externalId: role.externalId!, maxSessionDuration: 3600 });
        }
        const filter = quotedFilter ?? bareFilter;
        const output = filter ? jqFilter(filter, answer) : answer;
        if (capture) {
          expect(output, `${line} captures a value`).to.be.a("string");
          shell[capture] = output as string;
        } else {
          printed = { line, value: output };
        }
        ran.push(name);
      }
    }
    // Every step of the seed's stories ran: providers, service and stage and region links, a default, resolution, deployment.
    for (const step of ["CreateProvider", "LinkToService", "CreateInstance", "LinkToInstance", "SetDefault", "Resolve", "Deploy", "credentials (CLI)"]) {
      expect(ran, step).to.include(step);
    }
    expect([...operations.keys()].filter((name) => !ran.includes(name)), "an operation no line sends").to.deep.equal([]);
    expect(sts().callsOf("AssumeRole").map((c) => [c.params.RoleArn, c.params.DurationSeconds])).to.deep.equal([
      ["arn:aws:iam::333333333333:role/deploy", "900"],
      ["arn:aws:iam::333333333333:role/deploy", "3600"],
    ]);
  });

  it("its shell helper finds each operation in README.md as the test does", async () => {
    const blocks = walkthroughBlocks();
    const helpers = blocks.find((b) => b.lang === "sh" && b.text.includes("gql() {"))!.text;
    const operations = operationsOf(blocks);
    for (const [name, text] of operations) {
      const { stdout } = await promisify(execFile)("bash", ["-c", `${helpers}\noperation "$1"`, "bash", name], { cwd: path.dirname(README) });
      expect(stdout, name).to.equal(text);
    }
    const { stdout: none } = await promisify(execFile)("bash", ["-c", `${helpers}\noperation NoSuchOperation`], { cwd: path.dirname(README) });
    expect(none).to.equal("");
  });
});
