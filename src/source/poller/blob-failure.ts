import type { ConnectorError } from '../../contracts/errors.ts';
import { BLOB_MALFORMED } from '../../pipeline/deliver-blob.ts';
import { SPOOL_UNAVAILABLE } from '../blob-spool.ts';
import { API_ERRORS } from '../o365/answers.ts';

/**
 * What a failed blob attempt means for the blob (DESIGN "three outcomes"): try again later, end it as
 * rejected (dead letter + data loss, the cursor moves past it), or stop the poller. Pure: the worker
 * keeps the per-code attempt counts and does the I/O.
 *
 * The rule: a condition that cannot heal by retrying ends the blob after a bounded number of
 * attempts; a condition that can heal — or that is not this blob's fault at all (the tenant's token,
 * permission or audit setting, throttling, Kafka, the local spool) — keeps it pending and retrying,
 * because rejecting every blob of a tenant whose admin is about to fix consent would lose them all.
 */
export type BlobVerdict = { action: 'retry' } | { action: 'reject'; reason: string } | { action: 'fatal' };

export interface BlobFailureLimits {
  /** AF20050/404: the listing can run ahead of storage for a moment, so "not found" gets a few tries. */
  notFoundAttempts: number;
  /** Any other permanent answer (4xx, unknown non-retriable): tried this often, in case it was a fluke. */
  permanentAttempts: number;
}

export const DEFAULT_BLOB_FAILURE_LIMITS: BlobFailureLimits = { notFoundAttempts: 5, permanentAttempts: 3 };

/** Permanent at the first sight: retrying cannot change the answer, and some retries would be unsafe. */
const REJECT_AT_ONCE: Readonly<Record<string, string>> = {
  [API_ERRORS.contentExpired]: 'content-expired',
  [API_ERRORS.foreignHost]: 'foreign-host',
  [API_ERRORS.redirected]: 'redirected',
  INTERNAL: 'internal-error',
};

/** The tenant's or the process's trouble, not the blob's: the blob waits (pending) until it heals. */
const NOT_THE_BLOBS_FAULT = new Set<string>([
  API_ERRORS.throttled,
  API_ERRORS.unauthorized,
  API_ERRORS.permissionMissing,
  API_ERRORS.auditDisabled,
  API_ERRORS.subscriptionMissing,
  API_ERRORS.subscriptionDisabled,
  SPOOL_UNAVAILABLE,
  // deliverBlob ends a malformed blob itself on the last allowed attempt (what parsed is published,
  // the unreadable rest dead-lettered), so this one is bounded by connector.malformedBlobAttempts.
  BLOB_MALFORMED,
]);

/**
 * `attemptsWithCode` counts this attempt: 1 the first time the blob failed with `error.code`.
 */
export function classifyBlobFailure(error: ConnectorError, attemptsWithCode: number, limits: BlobFailureLimits = DEFAULT_BLOB_FAILURE_LIMITS): BlobVerdict {
  // Fenced, or a commit whose outcome is unknown: retrying the blob here could publish it twice.
  if (error.code === 'SINK_FENCED' || error.code === 'SINK_COMMIT_UNCERTAIN') return { action: 'fatal' };
  const atOnce = REJECT_AT_ONCE[error.code];
  if (atOnce !== undefined) return { action: 'reject', reason: atOnce };
  if (error.stage === 'sink' || error.stage === 'auth' || NOT_THE_BLOBS_FAULT.has(error.code)) return { action: 'retry' };
  if (error.code === API_ERRORS.contentNotFound) {
    return attemptsWithCode >= limits.notFoundAttempts ? { action: 'reject', reason: 'content-not-found' } : { action: 'retry' };
  }
  if (error.retriable) return { action: 'retry' };
  const reason = error.code === API_ERRORS.badRequest ? 'request-refused' : 'permanent-error';
  return attemptsWithCode >= limits.permanentAttempts ? { action: 'reject', reason } : { action: 'retry' };
}

/** Counts attempts per error code for one blob, so each permanent condition has its own bound. */
export class BlobFailureHistory {
  readonly #counts = new Map<string, number>();

  /** Records this failure and returns the verdict for it. */
  judge(error: ConnectorError, limits?: BlobFailureLimits): BlobVerdict {
    const seen = (this.#counts.get(error.code) ?? 0) + 1;
    this.#counts.set(error.code, seen);
    return classifyBlobFailure(error, seen, limits);
  }
}
