import { ConnectorError, type Stage } from '../../contracts/errors.ts';
import { withoutQuery } from './url-check.ts';

/**
 * Turns a non-2xx answer of the Management Activity API into a ConnectorError with a stable code.
 * AF codes and observed statuses: ../shared/reference/o365-api.md §2.2–2.4. The audit-disabled answer
 * is the odd one: HTTP 400 whose text (split between code and message) says `Tenant <id> does not exist`.
 */
export const API_ERRORS = {
  permissionMissing: 'API_PERMISSION_MISSING',
  unauthorized: 'API_UNAUTHORIZED',
  auditDisabled: 'API_AUDIT_DISABLED',
  subscriptionMissing: 'API_SUBSCRIPTION_MISSING',
  subscriptionDisabled: 'API_SUBSCRIPTION_DISABLED',
  alreadySubscribed: 'API_ALREADY_SUBSCRIBED',
  startThrottled: 'API_START_THROTTLED',
  throttled: 'API_THROTTLED',
  invalidWindow: 'API_INVALID_WINDOW',
  contentExpired: 'API_CONTENT_EXPIRED',
  contentNotFound: 'API_CONTENT_NOT_FOUND',
  serverError: 'API_SERVER_ERROR',
  badRequest: 'API_BAD_REQUEST',
  transport: 'API_TRANSPORT',
  foreignHost: 'API_FOREIGN_HOST',
  pageLoop: 'API_PAGE_LOOP',
  redirected: 'API_REDIRECTED',
} as const;

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function afCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    const code = parsed.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return /"code"\s*:\s*"(AF\d+)"/.exec(body)?.[1];
  }
}

/** Retry-After as seconds (RFC 9110: delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** "Please retry again after 14m 56s" — the 15-minute /subscriptions/start rule's answer (observed). */
export function parseStartRetryText(body: string): number | undefined {
  const match = /retry again after\s+(?:(\d+)m)?\s*(?:(\d+)s)?/i.exec(body);
  if (match === null || (match[1] === undefined && match[2] === undefined)) return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

export function classifyAnswer(answer: Answer, stage: Stage, nowMs: number): ConnectorError {
  const { status, body } = answer;
  const code = afCode(body);
  const snippet = body.slice(0, 300);
  const make = (
    errorCode: string,
    message: string,
    retriable: boolean,
    retryAfterSeconds?: number,
  ): ConnectorError =>
    new ConnectorError(errorCode, `${message} (HTTP ${status}${code === undefined ? '' : `, ${code}`})`, {
      stage,
      retriable,
      httpStatus: status,
      retryAfterSeconds,
    });

  // Redirects are never followed: the bearer token would go along to wherever Location points.
  if (status >= 300 && status < 400) {
    const location = answer.headers['location'];
    const target = Array.isArray(location) ? location[0] : location;
    return make(API_ERRORS.redirected, `Answered with a redirect${target === undefined ? '' : ` to ${withoutQuery(target)}`}, which is never followed`, false);
  }
  if (/Tenant\s+\S+\s+does not exist/i.test(body)) {
    return make(API_ERRORS.auditDisabled, 'Audit log search is off for this tenant (or the tenant is unknown): a tenant admin must turn on audit log search in Microsoft Purview', false);
  }
  // A 401 that does not name the missing permission is a refused token (expired, revoked, clock skew):
  // refresh and retry. The simulator (like the service, §2.3 UNCERTAIN) may still label it AF10001.
  if (status === 401 && !/expected permission/i.test(body)) {
    return make(API_ERRORS.unauthorized, 'The bearer token was refused', true);
  }
  if (code === 'AF10001' || (status === 401 && /expected permission/i.test(body))) {
    return make(API_ERRORS.permissionMissing, 'The token lacks ActivityFeed.Read: grant the application permission and admin consent', false);
  }
  if (code === 'AF429' || (status === 429 && stage !== 'subscription')) {
    return make(API_ERRORS.throttled, 'Throttled by the Management Activity API', true, parseRetryAfter(answer.headers['retry-after'], nowMs));
  }
  if (status === 429) {
    const wait = parseRetryAfter(answer.headers['retry-after'], nowMs) ?? parseStartRetryText(body);
    return make(API_ERRORS.startThrottled, 'Subscription start requested too often', true, wait);
  }
  switch (code) {
    case 'AF20022':
      return make(API_ERRORS.subscriptionMissing, 'No subscription for the content type', true);
    case 'AF20023':
      return make(API_ERRORS.subscriptionDisabled, 'The subscription was disabled by an admin', true);
    case 'AF20024':
      return make(API_ERRORS.alreadySubscribed, 'The subscription is already enabled', false);
    case 'AF20030':
    case 'AF20055':
      return make(API_ERRORS.invalidWindow, 'The listing window was refused', true);
    case 'AF20051':
      return make(API_ERRORS.contentExpired, 'The content blob has expired (older than 7 days)', false);
    case 'AF20050':
    case 'AF20052':
      return make(API_ERRORS.contentNotFound, 'The content blob does not exist', false);
    case 'AF50000':
    case 'AF50005':
    case 'AF50006':
      return make(API_ERRORS.serverError, 'Internal error at Microsoft', true);
    default:
      break;
  }
  if (status === 401) return make(API_ERRORS.unauthorized, 'The bearer token was refused', true);
  if (status === 404) return make(API_ERRORS.contentNotFound, 'Not found', false);
  if (status === 408 || status >= 500) return make(API_ERRORS.serverError, `Server error: ${snippet}`, true);
  return make(API_ERRORS.badRequest, `Request refused: ${snippet}`, false);
}
