import type { TenantStatusName } from './tenant-status.ts';

/**
 * Statuses that only a person can end (a tenant admin, or whoever owns the credentials): repeating
 * the same WARN every poll says nothing new, and drowns the lines that do. Their status (/status,
 * tenant_status metric) already says what to do.
 */
export const WAITING_FOR_A_HUMAN: ReadonlySet<TenantStatusName> = new Set<TenantStatusName>([
  'audit-disabled',
  'consent-missing',
  'permission-missing',
  'auth-failed',
  'token-endpoint-failed',
]);

export interface WaitingLogOptions {
  /** The first reminder after a status change (default 5 minutes). */
  firstReminderMs?: number;
  /** Reminders double up to this gap (default 1 hour). */
  maxReminderMs?: number;
}

/**
 * When a failed poll of a waiting tenant is worth a WARN. The change of status is announced once by
 * the poller's "Tenant status changed" line; after it, reminders come with a growing gap (5 min, 10,
 * 20, … up to an hour). Everything else goes to debug. Pure apart from the times it is given.
 */
export class WaitingLogPolicy {
  readonly #first: number;
  readonly #max: number;
  #status: TenantStatusName | undefined;
  #nextAtMs = 0;
  #gapMs: number;

  constructor(options: WaitingLogOptions = {}) {
    this.#first = options.firstReminderMs ?? 5 * 60_000;
    this.#max = options.maxReminderMs ?? 3600_000;
    this.#gapMs = this.#first;
  }

  /** 'warn' when this failure should be logged loudly, 'debug' otherwise. Statuses not waiting for a human are always 'warn'. */
  level(status: TenantStatusName, nowMs: number): 'warn' | 'debug' {
    if (!WAITING_FOR_A_HUMAN.has(status)) {
      this.#status = undefined;
      return 'warn';
    }
    if (status !== this.#status) {
      this.#status = status;
      this.#gapMs = this.#first;
      this.#nextAtMs = nowMs + this.#gapMs;
      return 'debug';
    }
    if (nowMs < this.#nextAtMs) return 'debug';
    this.#gapMs = Math.min(this.#gapMs * 2, this.#max);
    this.#nextAtMs = nowMs + this.#gapMs;
    return 'warn';
  }
}
