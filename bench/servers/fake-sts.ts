import { FakeSts } from "../../src/dev-sts/fake-sts-server.js";
import { serveChild } from "../lib/child.js";

/** The test suite's loopback STS, in its own process; the parent adds roles, sets its answer delay, and makes it hang and release. */
async function main() {
  const sts = new FakeSts();
  const url = await sts.start();
  serveChild(url, {
    addRole: ({ roleArn, externalId }: { roleArn: string; externalId: string | null }) => sts.addRole(roleArn, { externalId }),
    delay: (ms: number) => {
      sts.delayMs = ms;
    },
    calls: () => sts.calls.length,
    hang: () => {
      sts.hang = true;
    },
    release: () => sts.release(),
    inFlight: () => sts.inFlight,
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
