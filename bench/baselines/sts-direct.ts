import http from "node:http";
import type { AddressInfo } from "node:net";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { serveChild } from "../lib/child.js";

/*
 * Baseline for deploymentCredentials: node:http answering each POST with one direct
 * @aws-sdk/client-sts AssumeRole on the same loopback STS (AWS_ENDPOINT_URL_STS), with the role and
 * external id in BASELINE_ROLE_ARN and BASELINE_EXTERNAL_ID. No database, no GraphQL, no audit.
 */
async function main() {
  const sts = new STSClient({ region: "us-east-1" });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", async () => {
      try {
        const { Credentials } = await sts.send(
          new AssumeRoleCommand({
            RoleArn: process.env.BASELINE_ROLE_ARN,
            ExternalId: process.env.BASELINE_EXTERNAL_ID,
            RoleSessionName: "bench-baseline",
            DurationSeconds: 3600,
          }),
        );
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ accessKeyId: Credentials!.AccessKeyId, secretAccessKey: Credentials!.SecretAccessKey, sessionToken: Credentials!.SessionToken }));
      } catch (error) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: (error as Error).name }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serveChild(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
