import type { ConnectorError } from '../../contracts/errors.ts';
import { SPOOL_UNAVAILABLE } from '../blob-spool.ts';
import { API_ERRORS } from '../o365/answers.ts';

/**
 * What a tenant admin or operator sees for a tenant. Every status that needs a human carries the
 * action to take, because "Tenant … does not exist" is not something a customer can act on.
 */
export const TENANT_STATUSES = [
  'starting',
  'healthy',
  'throttled',
  'audit-disabled',
  'consent-missing',
  'permission-missing',
  'auth-failed',
  'subscription-disabled',
  'degraded',
  'stopped',
  'token-endpoint-failed',
  'spool-unavailable',
] as const;

export type TenantStatusName = (typeof TENANT_STATUSES)[number];

export interface TenantStatus {
  status: TenantStatusName;
  /** What to do about it (empty when nothing). */
  action: string;
  /** The last error's code, when the status comes from one. */
  errorCode?: string;
  since: string;
}

const ACTIONS: Partial<Record<TenantStatusName, string>> = {
  'audit-disabled':
    'Turn on audit log search in Microsoft Purview (Audit > Start recording user and admin activity); it can take up to 60 minutes to take effect. Collection resumes by itself.',
  'consent-missing': 'A tenant admin must grant admin consent to the application for ActivityFeed.Read (Office 365 Management APIs).',
  'permission-missing': 'Add the ActivityFeed.Read application permission (Office 365 Management APIs) and grant admin consent again.',
  'auth-failed': 'Check the client secret or certificate configured for the connector application.',
  'subscription-disabled': 'An admin disabled the Audit.SharePoint subscription; the connector re-enables it when allowed.',
  throttled: 'Microsoft is throttling this tenant; the connector slows down and catches up by itself.',
  'token-endpoint-failed':
    'The token endpoint answered without a usable token (redirect, error page, empty or incomplete answer) or could not be reached: check endpoints.loginBaseUrl, the cloud, proxies and the network. The connector retries with backoff.',
  'spool-unavailable':
    'The spool directory (connector.spoolDirectory, or the system temp directory) cannot be written: check that it exists, is a writable directory and that the disk has space. Collection resumes by itself once it can write again.',
  degraded: 'Transient errors; the connector retries with backoff. See the logs for the error code.',
};

/** Verification found a token without the ActivityFeed.Read role (consent given before the permission was added). */
export const ROLE_MISSING = 'AUTH_ROLE_MISSING';

export function statusForError(error: ConnectorError): TenantStatusName {
  switch (error.code) {
    case API_ERRORS.auditDisabled:
      return 'audit-disabled';
    case API_ERRORS.permissionMissing:
    case ROLE_MISSING:
      return 'permission-missing';
    case 'AUTH_CONSENT_MISSING':
    case 'AUTH_UNKNOWN_TENANT':
      return 'consent-missing';
    case 'AUTH_BAD_SECRET':
    case 'AUTH_BAD_CERTIFICATE':
    case 'AUTH_FAILED':
      return 'auth-failed';
    case 'AUTH_BAD_ANSWER':
    case 'AUTH_UNAVAILABLE':
      return 'token-endpoint-failed';
    case SPOOL_UNAVAILABLE:
      return 'spool-unavailable';
    case API_ERRORS.subscriptionDisabled:
      return 'subscription-disabled';
    case API_ERRORS.throttled:
    case API_ERRORS.startThrottled:
      return 'throttled';
    default:
      return 'degraded';
  }
}

export function describeStatus(status: TenantStatusName, since: Date, errorCode?: string): TenantStatus {
  return { status, action: ACTIONS[status] ?? '', ...(errorCode === undefined ? {} : { errorCode }), since: since.toISOString() };
}
