import { partition } from "@aws-sdk/core/client";

/*
 * Which regions exist, from the AWS SDK's own partition data (the partitions.json every SDK client
 * resolves endpoints with): it grows as AWS opens regions and the SDK is updated. A region newer than
 * the installed SDK can be allowed with a setting (AWS_EXTRA_REGIONS).
 */

/**
 * Whether the SDK lists this region. `partition()` merges a listed region's own entry (its
 * description) into the answer, and only its partition's defaults for any other string; the
 * `*-global` entries are endpoint aliases, not regions a deployment runs in.
 */
export function isKnownAwsRegion(region: string): boolean {
  return !region.endsWith("-global") && "description" in partition(region);
}
