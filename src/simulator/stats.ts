/**
 * Every request the simulator answered, so tests can assert on traffic: how often each endpoint was
 * hit, for which tenant, and whether the client sent a bearer token and a PublisherIdentifier.
 */
export type EndpointName =
  | 'token'
  | 'openid-configuration'
  | 'instance-discovery'
  | 'jwks'
  | 'subscriptions-start'
  | 'subscriptions-stop'
  | 'subscriptions-list'
  | 'subscriptions-content'
  | 'subscriptions-notifications'
  | 'blob'
  | 'unknown';

export interface RequestRecord {
  /** Simulator-clock time the request arrived (epoch ms). */
  at: number;
  endpoint: EndpointName;
  /** Tenant from the URL path, when there was one. */
  tenantId: string | undefined;
  method: string;
  path: string;
  status: number;
  bearer: boolean;
  /** An Authorization header of `Bearer` with nothing (or only spaces) after it. */
  emptyBearer?: boolean;
  /** The PublisherIdentifier query value (any casing of the name), if sent. */
  publisherIdentifier: string | undefined;
}

export interface RequestFilter {
  endpoint?: EndpointName;
  tenantId?: string;
  status?: number;
  bearer?: boolean;
  withPublisherIdentifier?: boolean;
}

export interface TenantStats {
  total: number;
  byEndpoint: Partial<Record<EndpointName, number>>;
  withBearer: number;
  withoutBearer: number;
  withPublisherIdentifier: number;
  withoutPublisherIdentifier: number;
}

const MAX_KEPT = 100_000;

export class RequestStats {
  #records: RequestRecord[] = [];
  #dropped = 0;

  record(entry: RequestRecord): void {
    // Bounded: a long quick-start run must not grow without limit; counts below cover the kept tail.
    if (this.#records.length >= MAX_KEPT) {
      this.#records.splice(0, MAX_KEPT / 10);
      this.#dropped += MAX_KEPT / 10;
    }
    this.#records.push(entry);
  }

  /** The kept requests, oldest first (the newest 100,000 at most). */
  get requests(): readonly RequestRecord[] {
    return this.#records;
  }

  get dropped(): number {
    return this.#dropped;
  }

  count(filter: RequestFilter = {}): number {
    return this.#records.filter((r) => matches(r, filter)).length;
  }

  byTenant(tenantId: string): TenantStats {
    const stats: TenantStats = { total: 0, byEndpoint: {}, withBearer: 0, withoutBearer: 0, withPublisherIdentifier: 0, withoutPublisherIdentifier: 0 };
    for (const r of this.#records) {
      if (r.tenantId !== tenantId) continue;
      stats.total++;
      stats.byEndpoint[r.endpoint] = (stats.byEndpoint[r.endpoint] ?? 0) + 1;
      if (r.bearer) stats.withBearer++;
      else stats.withoutBearer++;
      if (r.publisherIdentifier === undefined) stats.withoutPublisherIdentifier++;
      else stats.withPublisherIdentifier++;
    }
    return stats;
  }

  byEndpoint(): Partial<Record<EndpointName, number>> {
    const out: Partial<Record<EndpointName, number>> = {};
    for (const r of this.#records) out[r.endpoint] = (out[r.endpoint] ?? 0) + 1;
    return out;
  }

  reset(): void {
    this.#records = [];
    this.#dropped = 0;
  }
}

function matches(r: RequestRecord, f: RequestFilter): boolean {
  return (
    (f.endpoint === undefined || r.endpoint === f.endpoint) &&
    (f.tenantId === undefined || r.tenantId === f.tenantId) &&
    (f.status === undefined || r.status === f.status) &&
    (f.bearer === undefined || r.bearer === f.bearer) &&
    (f.withPublisherIdentifier === undefined || (r.publisherIdentifier !== undefined) === f.withPublisherIdentifier)
  );
}
