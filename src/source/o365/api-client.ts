import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../contracts/clock.ts';
import type { ContentListing } from '../../contracts/audit-record.ts';
import { ConnectorError, isConnectorError, type Stage } from '../../contracts/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { retryDelayMs } from '../../util/backoff.ts';
import { API_ERRORS, classifyAnswer } from './answers.ts';
import type { TenantEndpoints } from './endpoints.ts';
import type { RateBudget } from './rate-budget.ts';
import { assertBearer, type TokenProvider } from './token-provider.ts';
import { checkUrl } from './url-check.ts';

export interface ApiClientOptions {
  endpoints: TenantEndpoints;
  /** Our vendor tenant GUID; on every call, blob downloads included, or the tenant shares the global pool. */
  publisherIdentifier: string;
  tokens: TokenProvider;
  dispatcher: Dispatcher;
  /** The tenant's budget, or its background view (RateBudget.background) for the sweep's client. */
  budget: Pick<RateBudget, 'take' | 'pauseUntil'>;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  timeoutMs: number;
  maxBackoffMs: number;
  /** Attempts per call for retriable answers before the error goes up to the poller. */
  maxAttempts?: number;
  /** Guard against a NextPageUri chain that never ends. */
  maxPagesPerWindow?: number;
  random?: () => number;
}

export interface ListingWindow {
  startMs: number;
  endMs: number;
}

type Endpoint = 'start' | 'stop' | 'list' | 'content' | 'blob';

// Only /subscriptions/start has the 15-minute rule, so only its 429 means "started too often" (answers.ts).
const STAGE_OF: Record<Endpoint, Stage> = { start: 'subscription', stop: 'subscription', list: 'listing', content: 'listing', blob: 'download' };

/** `YYYY-MM-DDTHH:MM:SS`, one of the documented listing time formats (o365-api.md §1.7). */
export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * The Management Activity API for one tenant. The bearer token is attached only to URLs on the
 * tenant's configured API origin under its own feed path; anything else is refused and counted
 * (invariant 4). Retriable answers are retried here a few times (Retry-After honoured, jittered
 * backoff otherwise); what still fails goes up as a ConnectorError.
 */
export class ManagementApiClient {
  readonly #o: ApiClientOptions;
  readonly #maxAttempts: number;
  #serverOffsetMs = 0;

  constructor(options: ApiClientOptions) {
    this.#o = options;
    this.#maxAttempts = options.maxAttempts ?? 5;
  }

  get tenantId(): string {
    return this.#o.endpoints.tenantId;
  }

  /**
   * How far Microsoft's clock is ahead of ours, from the last response's Date header (0 until one is
   * seen, and for differences under 5 s, the header's resolution plus latency). The 7-day window rule
   * is judged by the service's clock; planning with ours alone would hit AF20055 forever when ours lags.
   */
  serverClockOffsetMs(): number {
    return this.#serverOffsetMs;
  }

  /** Starts (or confirms) the subscription. AF20024 "already enabled" counts as success. */
  async startSubscription(contentType: string, signal?: AbortSignal): Promise<'started' | 'already-enabled'> {
    const url = `${this.#o.endpoints.feedBaseUrl}/subscriptions/start?contentType=${encodeURIComponent(contentType)}`;
    try {
      await this.#call('start', 'POST', url, signal, (response) => response.body.dump());
      return 'started';
    } catch (error) {
      if (isConnectorError(error) && error.code === API_ERRORS.alreadySubscribed) return 'already-enabled';
      throw error;
    }
  }

  /** Stops the subscription (deauthorization): content created meanwhile is never listed later. */
  async stopSubscription(contentType: string, signal?: AbortSignal): Promise<void> {
    const url = `${this.#o.endpoints.feedBaseUrl}/subscriptions/stop?contentType=${encodeURIComponent(contentType)}`;
    await this.#call('stop', 'POST', url, signal, (response) => response.body.dump());
  }

  /** A bearer token for the tenant (onboarding verification reads its roles). */
  accessToken(): Promise<string> {
    return this.#o.tokens.getToken();
  }

  async listSubscriptions(signal?: AbortSignal): Promise<Array<{ contentType: string; status: string | undefined }>> {
    const url = `${this.#o.endpoints.feedBaseUrl}/subscriptions/list`;
    const body = await this.#call('list', 'GET', url, signal, (response) => response.body.json());
    if (!Array.isArray(body)) return [];
    return body.map((entry: { contentType?: unknown; status?: unknown }) => ({
      contentType: String(entry.contentType),
      status: typeof entry.status === 'string' ? entry.status : undefined,
    }));
  }

  /** Pages of one window's listing, following NextPageUri until a page comes without one. */
  async *listContent(contentType: string, window: ListingWindow, signal?: AbortSignal): AsyncGenerator<ContentListing[]> {
    let url: string | undefined =
      `${this.#o.endpoints.feedBaseUrl}/subscriptions/content?contentType=${encodeURIComponent(contentType)}` +
      `&startTime=${formatApiTime(window.startMs)}&endTime=${formatApiTime(window.endMs)}`;
    const seen = new Set<string>();
    const maxPages = this.#o.maxPagesPerWindow ?? 10_000;
    while (url !== undefined) {
      const pageKey = url.toLowerCase();
      if (seen.has(pageKey) || seen.size >= maxPages) {
        throw new ConnectorError(API_ERRORS.pageLoop, `NextPageUri loops or never ends after ${seen.size} pages`, {
          stage: 'listing',
          retriable: true,
        });
      }
      seen.add(pageKey);
      const page: { items: unknown; next: string | undefined } = await this.#call('content', 'GET', url, signal, async (response) => ({
        items: await response.body.json(),
        next: headerValue(response.headers, 'nextpageuri'),
      }));
      yield Array.isArray(page.items) ? (page.items as ContentListing[]) : [];
      url = page.next === undefined || page.next === '' ? undefined : this.#checkedUrl(page.next, 'nextPageUri');
    }
  }

  /** Opens a content blob. The caller consumes (or dumps) the body; a body error mid-stream is the caller's to retry. */
  async openBlob(contentUri: string, signal?: AbortSignal): Promise<{ body: AsyncIterable<Uint8Array>; contentLength: number | undefined }> {
    const url = this.#checkedUrl(contentUri, 'contentUri');
    return this.#call('blob', 'GET', url, signal, (response) => {
      const length = headerValue(response.headers, 'content-length');
      return Promise.resolve({ body: response.body, contentLength: length === undefined ? undefined : Number(length) });
    });
  }

  /** Refuses any URL off the tenant's API origin or feed path (canonical check, url-check.ts); the token must never follow it. */
  #checkedUrl(raw: string, kind: 'contentUri' | 'nextPageUri'): string {
    const { apiOrigin, feedBaseUrl } = this.#o.endpoints;
    const basePath = new URL(feedBaseUrl).pathname;
    const check = checkUrl(raw, { origin: apiOrigin, basePath });
    if (check.ok) return check.url;
    const expected = `${apiOrigin}${basePath}/…`;
    this.#o.metrics.foreignHostRefused.inc({ tenant: this.tenantId, kind });
    this.#o.logger.warn({ kind, url: check.shown, refusal: check.refusal, expected }, 'Refused a URL outside the tenant API host; the token was not sent');
    throw new ConnectorError(API_ERRORS.foreignHost, `${kind} ${check.shown} refused (${check.reason}): expected a URL under ${expected}`, {
      stage: kind === 'contentUri' ? 'download' : 'listing',
      retriable: false,
    });
  }

  #observeServerDate(date: string | undefined): void {
    const serverMs = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverMs)) return;
    const offset = serverMs - this.#o.clock.now();
    this.#serverOffsetMs = Math.abs(offset) < 5_000 ? 0 : offset;
  }

  #withPublisher(url: string): string {
    const parsed = new URL(url);
    const present = [...parsed.searchParams.keys()].some((key) => key.toLowerCase() === 'publisheridentifier');
    if (!present) parsed.searchParams.set('PublisherIdentifier', this.#o.publisherIdentifier);
    return parsed.toString();
  }

  async #call<T>(
    endpoint: Endpoint,
    method: 'GET' | 'POST',
    url: string,
    signal: AbortSignal | undefined,
    read: (response: Dispatcher.ResponseData) => Promise<T>,
  ): Promise<T> {
    const { metrics, clock } = this.#o;
    const target = this.#withPublisher(url);
    let forceRefresh = false;
    for (let attempt = 1; ; attempt += 1) {
      await this.#o.budget.take(signal);
      // Never a call with an empty or malformed bearer, whatever the provider returned.
      const token = assertBearer(await this.#o.tokens.getToken({ forceRefresh }), this.tenantId);
      const started = clock.now();
      let error: ConnectorError;
      try {
        const response = await request(target, {
          method,
          dispatcher: this.#o.dispatcher,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          body: method === 'POST' ? '' : null,
          signal: signal ?? null,
          headersTimeout: this.#o.timeoutMs,
          bodyTimeout: this.#o.timeoutMs,
        });
        metrics.apiRequestDuration.observe({ endpoint }, (clock.now() - started) / 1000);
        metrics.apiRequests.inc({ tenant: this.tenantId, endpoint, status: `${Math.floor(response.statusCode / 100)}xx` });
        this.#observeServerDate(headerValue(response.headers, 'date'));
        if (response.statusCode >= 200 && response.statusCode < 300) return await read(response);
        const body = await response.body.text().catch(() => '');
        error = classifyAnswer({ status: response.statusCode, body, headers: response.headers }, STAGE_OF[endpoint], clock.now());
      } catch (thrown) {
        if (signal?.aborted) throw thrown;
        if (isConnectorError(thrown)) throw thrown;
        metrics.apiRequests.inc({ tenant: this.tenantId, endpoint, status: 'error' });
        error = new ConnectorError(API_ERRORS.transport, `${endpoint} request failed: ${(thrown as Error).message}`, {
          stage: STAGE_OF[endpoint],
          retriable: true,
          cause: thrown,
        });
      }
      if (error.code === API_ERRORS.throttled) {
        metrics.throttled.inc({ tenant: this.tenantId });
      }
      if (!error.retriable || error.code === API_ERRORS.startThrottled || error.code === API_ERRORS.subscriptionMissing || error.code === API_ERRORS.subscriptionDisabled || error.code === API_ERRORS.invalidWindow || attempt >= this.#maxAttempts) {
        throw error;
      }
      forceRefresh = error.code === API_ERRORS.unauthorized;
      const delay = retryDelayMs(attempt, error.retryAfterSeconds, { maxMs: this.#o.maxBackoffMs, ...(this.#o.random ? { random: this.#o.random } : {}) });
      if (error.code === API_ERRORS.throttled) this.#o.budget.pauseUntil(clock.now() + delay);
      this.#o.logger.debug({ endpoint, code: error.code, attempt, delayMs: delay }, 'Retrying a Management Activity API call');
      await clock.sleep(delay, signal);
    }
  }
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
