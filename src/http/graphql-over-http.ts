import Negotiator from "negotiator";
import type { RequestHooks } from "./request-hooks.js";

/*
 * The GraphQL-over-HTTP spec (https://graphql.github.io/graphql-over-http/draft/) answers a request
 * error two ways, by what the client accepts:
 * - `application/graphql-response+json`: 4xx, so a client tells a refused request from an answer;
 * - only `application/json` (older clients, `Accept: *\/*`, no Accept): 200, because such a client
 *   cannot tell a GraphQL server's 400 from a proxy's, and many (Apollo Client 3's HttpLink among
 *   them) then show "Response not successful: Received status code 400" instead of the message.
 * Apollo Server answers 400 to both; this plugin gives the legacy client its 200.
 */

/** Errors of a well-formed request that never ran: its document or variables were refused. */
const REQUEST_ERROR_CODES: ReadonlySet<unknown> = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "OPERATION_RESOLUTION_FAILURE",
  "BAD_USER_INPUT", // a variable that does not coerce to its type
  "QUERY_TOO_COMPLEX", // our own validation: the request is over a limit
]);

const JSON_TYPE = "application/json; charset=utf-8";
const GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8";

/** The media type a request error is answered in: application/json wins ties, as in Apollo's own choice. */
function requestErrorMediaType(accept: string | undefined): string | undefined {
  const preferred = new Negotiator({ headers: { accept: accept || "*/*" } }).mediaType(["application/json", "application/graphql-response+json"]);
  return preferred === "application/json" ? JSON_TYPE : preferred ? GRAPHQL_RESPONSE_TYPE : undefined;
}

/** Apollo's CSRF refusal names headers and media types; ours says what a caller of this API does. */
const APOLLO_CSRF_REFUSAL = "This operation has been blocked as a potential Cross-Site Request Forgery";
export const CSRF_REFUSAL =
  "Refused as a possible cross-site request: send your access key as `Authorization: Bearer <key>`, on a GET as on a POST.";

export function isCsrfRefusal(message: string): boolean {
  return message.startsWith(APOLLO_CSRF_REFUSAL);
}

export const requestErrorStatusHooks: RequestHooks = {
  willSendResponse({ request, response }) {
    if (response.http.status !== 400 || response.body.kind !== "single") return;
    const { data, errors } = response.body.singleResult;
    if (data !== undefined || !errors?.length || !errors.every((error) => REQUEST_ERROR_CODES.has(error.extensions?.code))) return;
    const type = requestErrorMediaType(request.http?.headers.get("accept"));
    // Neither type acceptable: Apollo answers 406 itself.
    if (!type) return;
    // The status and the type are decided together, so they always agree.
    response.http.headers.set("content-type", type);
    if (type === JSON_TYPE) response.http.status = 200;
  },
};
