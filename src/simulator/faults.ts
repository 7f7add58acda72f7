import type { EndpointName } from './stats.ts';

/**
 * Faults a test (or the CLI) switches on per tenant while the simulator runs. Counted faults
 * (`count`) hit the next N matching requests and then stop by themselves; flags stay until cleared.
 */
export interface FaultSpec {
  /** The next `count` matching requests answer HTTP 500 AF50000 (o365-api.md §2.2). */
  serverErrors?: { count: number; endpoints?: readonly EndpointName[] };
  /** Every matching request is answered `ms` later (wall-clock time, so a frozen test clock does not hang it). */
  delay?: { ms: number; endpoints?: readonly EndpointName[] };
  /** The next `count` blob downloads send `afterBytes` bytes of body, then the socket is destroyed. */
  resetBlobs?: { count: number; afterBytes: number };
  /** The next `count` blob downloads end cleanly after `afterBytes` bytes: valid HTTP, JSON cut off. */
  truncateBlobs?: { count: number; afterBytes: number };
  /** The next `count` blob downloads carry one malformed record in the middle (the rest stays valid). */
  malformedBlobs?: { count: number };
  /** The next `count` activity-API requests are throttled (AF429 in the configured style; Retry-After, when sent, default 60 s). */
  throttle?: { count: number; retryAfterSeconds?: number };
  /** The next `count` blob downloads send `afterBytes` bytes of body, then stall (no more bytes, socket kept open). */
  stallBlobs?: { count: number; afterBytes: number };
  /** The next `count` listing requests answer 400 AF20055 whatever their window (§1.7), as the service sometimes does. */
  invalidWindow?: { count: number };
  /** Lifetime of access tokens issued from now on for this tenant. */
  tokenLifetimeSeconds?: number;
  /** Audit logging switched off: every activity-API call answers the "Tenant … does not exist" 400 (§2.3). */
  auditDisabled?: boolean;
  /** Disables the tenant's subscriptions as a tenant admin would (AF20023, §2.2); /start re-enables. */
  subscriptionDisabled?: boolean;
  /** Listing pages carry a NextPageUri that points back to the same page, forever. */
  loopingNextPage?: boolean;
  /** The next `count` listing requests answer an empty page that still carries a NextPageUri. */
  emptyPagesWithNextPage?: { count: number };
  /** contentUri values point at this origin instead of the simulator (e.g. https://evil.example.invalid). */
  foreignContentUriOrigin?: string;
  /** NextPageUri values point at this origin instead of the simulator. */
  foreignNextPageUriOrigin?: string;
  /** Every blob download answers AF20051 (expired content, §1.8) whatever its age. */
  expiredContent?: boolean;
  /**
   * The token endpoint answers this instead of a token, until cleared: a redirect (307/302, empty body,
   * Location elsewhere), a 500 HTML page, a 200 with an empty body, or a 200 JSON without access_token.
   * A slow token endpoint is `delay` with endpoints ['token'].
   */
  tokenAnswer?: TokenFault;
  /** Every blob download answers this redirect status with a Location on `location` (default another host). */
  redirectBlobs?: { status: 301 | 302 | 307 | 308; location?: string };
  /**
   * contentUri values on the right origin whose path leaves the tenant's feed: `encoded-slash` only once
   * %2F is decoded, `dot-segment` once `..` is resolved (both towards another tenant's feed).
   */
  contentUriPathTrick?: 'encoded-slash' | 'dot-segment';
}

export const TOKEN_FAULTS = ['redirect-307', 'redirect-302', 'html-500', 'empty-200', 'no-access-token-200'] as const;
export type TokenFault = (typeof TOKEN_FAULTS)[number];

/** A change to a tenant's faults: a key set to undefined switches that fault off. */
export type FaultUpdate = { [K in keyof FaultSpec]?: FaultSpec[K] | undefined };

type CountedFault = 'serverErrors' | 'resetBlobs' | 'truncateBlobs' | 'stallBlobs' | 'malformedBlobs' | 'throttle' | 'emptyPagesWithNextPage' | 'invalidWindow';

export interface FaultControls {
  /** Merges `spec` into the tenant's active faults (a key set to undefined removes that fault). */
  set(tenantId: string, spec: FaultUpdate): void;
  /** Clears one tenant's faults, or every tenant's. */
  clear(tenantId?: string): void;
  /** The tenant's active faults (counted ones show what is left). */
  get(tenantId: string): Readonly<FaultSpec>;
}

export class FaultController implements FaultControls {
  readonly #faults = new Map<string, FaultSpec>();
  readonly #onChange: (tenantId: string, spec: FaultSpec) => void;

  /** `onChange` lets the simulator apply faults that change tenant state (subscription disabled). */
  constructor(onChange: (tenantId: string, spec: FaultSpec) => void) {
    this.#onChange = onChange;
  }

  set(tenantId: string, spec: FaultUpdate): void {
    const merged: FaultSpec = { ...this.#faults.get(tenantId) };
    for (const [key, value] of Object.entries(spec) as [keyof FaultSpec, unknown][]) {
      if (value === undefined) delete merged[key];
      else (merged as Record<string, unknown>)[key] = typeof value === 'object' && value !== null ? { ...value } : value;
    }
    this.#faults.set(tenantId, merged);
    this.#onChange(tenantId, merged);
  }

  clear(tenantId?: string): void {
    if (tenantId === undefined) this.#faults.clear();
    else this.#faults.delete(tenantId);
  }

  get(tenantId: string): Readonly<FaultSpec> {
    return this.#faults.get(tenantId) ?? {};
  }

  /** Consumes one use of a counted fault if it is active (and matches the endpoint); true when it fires. */
  take(tenantId: string, fault: CountedFault, endpoint?: EndpointName): boolean {
    const spec = this.#faults.get(tenantId);
    const entry = spec?.[fault] as { count: number; endpoints?: readonly EndpointName[] } | undefined;
    if (!spec || !entry || entry.count <= 0) return false;
    if (endpoint !== undefined && entry.endpoints !== undefined && !entry.endpoints.includes(endpoint)) return false;
    entry.count--;
    return true;
  }

  /** Like take() for faults that carry a byte count: the byte count when it fires. */
  takeBytes(tenantId: string, fault: 'resetBlobs' | 'truncateBlobs' | 'stallBlobs'): number | undefined {
    const entry = this.#faults.get(tenantId)?.[fault];
    if (!entry || entry.count <= 0) return undefined;
    entry.count--;
    return entry.afterBytes;
  }

  delayFor(tenantId: string, endpoint: EndpointName): number {
    const delay = this.#faults.get(tenantId)?.delay;
    if (!delay || (delay.endpoints !== undefined && !delay.endpoints.includes(endpoint))) return 0;
    return delay.ms;
  }
}
