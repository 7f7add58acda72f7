import { randomUUID } from 'node:crypto';
import { GLOBAL_PUBLISHER } from '../throttle.ts';

/**
 * Answers of the Management Activity API, with the status each one is served with and where that
 * status comes from (o365-api.md §2.2). Messages are the live texts where one is quoted, else REF's.
 */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export const AF = {
  // §2.2: 401 observed (coe-starter-kit #3192); live text.
  permissionMissing: (): ApiError => ({ status: 401, code: 'AF10001', message: 'The permission set () sent in the request does not include the expected permission.' }),
  // §1.2 / §2.2: status undocumented; 401 chosen because it is a token problem.
  tenantMismatch: (url: string, token: string): ApiError => ({ status: 401, code: 'AF20010', message: `The tenant ID passed in the URL (${url}) does not match the tenant ID passed in the access token (${token}).` }),
  missingParameter: (name: string): ApiError => ({ status: 400, code: 'AF20001', message: `Missing parameter: ${name}.` }),
  invalidParameterType: (message: string): ApiError => ({ status: 400, code: 'AF20002', message }),
  // §2.2: 403 only in a mock; 400 chosen like the other request errors.
  invalidContentType: (): ApiError => ({ status: 400, code: 'AF20020', message: 'The specified content type is not valid.' }),
  webhookNotHttps: (address: string): ApiError => ({ status: 400, code: 'AF20021', message: `The webhook endpoint {${address}) could not be validated. The address must begin with HTTPS.` }),
  // §2.2: status not quoted; 400 like AF20023.
  noSubscription: (): ApiError => ({ status: 400, code: 'AF20022', message: 'No subscription found for the specified content type.' }),
  // §2.2: 400 observed, live text.
  subscriptionDisabled: (): ApiError => ({ status: 400, code: 'AF20023', message: 'The subscription was disabled.' }),
  // §1.3: 400 observed, live text.
  alreadyEnabled: (): ApiError => ({ status: 400, code: 'AF20024', message: 'The subscription is already enabled. No property change.' }),
  invalidNextPage: (value: string): ApiError => ({ status: 400, code: 'AF20031', message: `Invalid nextPage Input: ${value}.` }),
  // §1.8: status undocumented; 404 (what clients treat as "gone").
  contentNotFound: (id: string): ApiError => ({ status: 404, code: 'AF20050', message: `The specified content (${id}) does not exist.` }),
  // §1.8: status undocumented; 400 chosen (a request error that retrying cannot fix, like AF20055).
  contentExpired: (id: string): ApiError => ({ status: 400, code: 'AF20051', message: `Content requested with the key ${id} has already expired. Content older than 7 days cannot be retrieved.` }),
  // §2.2: 500 observed; live text has two spaces.
  internal: (): ApiError => ({ status: 500, code: 'AF50000', message: 'An internal error occurred.  Retry the request.' }),
  // §1.3: 429 observed with this text; the error code was not quoted, AF429 is our choice.
  startTooSoon: (remainingMs: number): ApiError => {
    const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
    return { status: 429, code: 'AF429', message: `Too many frequent subscription start requests. Please retry again after ${Math.floor(seconds / 60)}m ${seconds % 60}s`, headers: {} };
  },
  unauthorized: (why: string): ApiError => ({ status: 401, code: 'AF10001', message: `Authorization failed: ${why}`, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } }),
};

/** AF429 as TRB quotes it: `Too many requests. Method=GetBlob, PublisherId=…` (§2.2), in the configured style. */
export function throttled(method: string, publisherId: string | undefined, style: '429-retry-after' | '429' | '403', retryAfterSeconds: number): ApiError {
  return {
    status: style === '403' ? 403 : 429,
    code: 'AF429',
    message: `Too many requests. Method=${method}, PublisherId=${publisherId ?? GLOBAL_PUBLISHER}`,
    headers: style === '429-retry-after' ? { 'Retry-After': String(retryAfterSeconds) } : {},
  };
}

/**
 * The audit-disabled / unknown-tenant answer (o365-api.md §2.3 [OBS]): HTTP 400 whose text, split
 * oddly between `code` and `message`, contains `Tenant <id> does not exist.` and a .NET stack trace.
 */
export function tenantDoesNotExist(input: { operation: string; tenantId: string; contentType: string; appId: string; publisherId: string | undefined }): { status: number; body: { error: { code: string; message: string } } } {
  const code = `${input.operation} [CorrId=${randomUUID()}][TenantId=${input.tenantId},ContentType=${input.contentType},ApplicationId=${input.appId},PublisherId=${input.publisherId ?? GLOBAL_PUBLISHER}][AppId`;
  const message =
    `${input.appId.slice(1)}] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${input.tenantId} does not exist.\r\n` +
    '   at Microsoft.Office.Compliance.Audit.API.AzureManager.<GetSubscriptionTableClientForTenantAsync>d__52.MoveNext() in d:\\dbs\\sh\\nibr\\0604_070037\\cmd\\1n\\sources\\dev\\Compliance\\src\\Audit\\API\\AzureManager.cs:line 2113\r\n' +
    '--- End of stack trace from previous location where exception was thrown ---\r\n' +
    '   at System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)';
  return { status: 400, body: { error: { code, message } } };
}
