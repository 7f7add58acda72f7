import { randomUUID } from 'node:crypto';

/**
 * Entra ID (AAD) token-endpoint errors in their JSON shape: `error`, `error_description` starting with
 * the AADSTS code and ending with trace/correlation ids and a timestamp, `error_codes`, `timestamp`,
 * `trace_id`, `correlation_id`, `error_uri`. Status 401 for invalid_client, 400 otherwise.
 */
export interface EntraError {
  status: number;
  body: Record<string, unknown>;
}

function stamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function entraError(error: string, code: number, text: string, nowMs: number): EntraError {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = stamp(nowMs);
  return {
    status: error === 'invalid_client' ? 401 : 400,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export const ENTRA = {
  tenantNotFound: (tenant: string, now: number) =>
    entraError('invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`, now),
  // Entra answers a missing app with `unauthorized_client` (observed in Azure SDK troubleshooting guides).
  appNotInTenant: (clientId: string, tenant: string, now: number) =>
    entraError('unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, now),
  badSecret: (clientId: string, now: number) =>
    entraError('invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`, now),
  noCredential: (now: number) =>
    entraError('invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", now),
  assertionInvalid: (reason: string, now: number) =>
    entraError('invalid_client', 700027, `Client assertion failed signature validation. [Reason - ${reason}]`, now),
  assertionTime: (now: number) => entraError('invalid_client', 700024, 'Client assertion is not within its valid time range.', now),
  assertionSubject: (now: number) =>
    entraError('invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.", now),
  assertionAudience: (audience: string, now: number) =>
    entraError('invalid_client', 700027, `Client assertion failed signature validation. [Reason - The audience '${audience}' is invalid.]`, now),
  badGrant: (grant: string, now: number) => entraError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`, now),
  scopeNotDefault: (scope: string, now: number) =>
    entraError('invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, now),
  resourceNotFound: (resource: string, tenant: string, now: number) =>
    entraError('invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`, now),
  missingParameter: (name: string, now: number) =>
    entraError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`, now),
};
