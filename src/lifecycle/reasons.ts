import type { ConnectorError } from '../contracts/errors.ts';
import { describeStatus, statusForError, TENANT_STATUSES, type TenantStatus, type TenantStatusName } from '../source/poller/tenant-status.ts';

export { ROLE_MISSING } from '../source/poller/tenant-status.ts';
import type { ConnectionStatus } from './state-machine.ts';

/**
 * Why a connection is in its state. Error reasons are the poller's conditions (tenant-status.ts, where
 * new failure conditions are added) plus the few only onboarding can tell apart; the rest name what an
 * operator or Microsoft did. Every reason that asks something of someone carries its remedy.
 */
export type ErrorReason = Exclude<TenantStatusName, 'starting' | 'healthy' | 'stopped'> | 'unknown-tenant' | 'consent-denied';

export const LIFECYCLE_REASONS = [
  'registered',
  'consent-granted',
  'subscribed',
  'first-content',
  'healthy',
  'maintenance-started',
  'maintenance-ended',
  'paused',
  'resumed',
  'deauthorized',
] as const;
export type LifecycleReason = (typeof LIFECYCLE_REASONS)[number];

export type Reason = ErrorReason | LifecycleReason;

const REMEDIES: Partial<Record<Reason, string>> = {
  registered: 'A global admin of the tenant must open the consent URL and grant admin consent for ActivityFeed.Read.',
  subscribed: 'Nothing: Microsoft can take up to 12 hours to list the first content of a new subscription.',
  'unknown-tenant': 'Check the tenant id and its cloud: Entra ID does not know this tenant.',
  'consent-denied': 'The admin refused consent. Open the consent URL again and accept, or deauthorize the connection.',
  'audit-disabled':
    'Turn on audit log search in Microsoft Purview (Audit > Start recording user and admin activity); Business plans must, and it can take up to 60 minutes. Collection resumes by itself.',
  'maintenance-started': 'Nothing: the connection is being upgraded; it stays monitored, events may appear late.',
  paused: 'Resume the connection when collection should continue.',
  deauthorized: 'Resume within 90 days to continue from where collection stopped; after that the configuration and cursor are purged.',
};

export function remedyFor(reason: Reason): string {
  const own = REMEDIES[reason];
  if (own !== undefined) return own;
  if ((LIFECYCLE_REASONS as readonly string[]).includes(reason)) return '';
  return describeStatus(reason as TenantStatusName, new Date(0)).action;
}

/** The Error reason for a failure seen by the poller or by verification. */
export function reasonForError(error: ConnectorError): ErrorReason {
  if (error.code === 'AUTH_UNKNOWN_TENANT') return 'unknown-tenant';
  const status = statusForError(error);
  return status === 'starting' || status === 'healthy' || status === 'stopped' ? 'degraded' : status;
}

/** The /status view of a tenant whose poller is not running (waiting for consent, failed verification, paused, deauthorized). */
export function tenantStatusOf(status: ConnectionStatus): TenantStatus {
  const since = new Date(status.since);
  if (status.state === 'Paused' || status.state === 'Deauthorized') return describeStatus('stopped', since);
  if (status.state !== 'Error') return describeStatus('starting', since);
  const name: TenantStatusName =
    status.reason === 'unknown-tenant' || status.reason === 'consent-denied'
      ? 'consent-missing'
      : (TENANT_STATUSES as readonly string[]).includes(status.reason)
        ? (status.reason as TenantStatusName)
        : 'degraded';
  return describeStatus(name, since, status.code);
}
