import { Registry } from 'prom-client';
import type { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentListing } from '../../../../src/contracts/audit-record.ts';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import { ManagementApiClient, type ApiClientOptions } from '../../../../src/source/o365/api-client.ts';
import type { TenantEndpoints } from '../../../../src/source/o365/endpoints.ts';
import { RateBudget } from '../../../../src/source/o365/rate-budget.ts';
import type { TokenProvider } from '../../../../src/source/o365/token-provider.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';
import { createMetrics, type Metrics } from '../../../../src/telemetry/metrics.ts';
import { ManualClock, waitFor, advance } from '../../../support/time.ts';
import { apiError, FakeHost, json, newMockAgent, type SeenRequest } from './fake-api-host.ts';

const ORIGIN = 'https://manage.example.test';
const FOREIGN = 'https://evil.example.test';
const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
const OTHER_TENANT = 'f0e1d2c3-b4a5-4968-8776-655443322110';
const PUBLISHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const FEED = `${ORIGIN}/api/v1.0/${TENANT}/activity/feed`;
const CONTENT_ID = '492638008028$492638008028$f28ab78ad40140608012736e373933ebspo2015043022$4a81a7c326fc4aed89c62e6039ab833b$04';
const WINDOW = { startMs: Date.parse('2026-11-20T00:00:00Z'), endMs: Date.parse('2026-11-20T06:00:00Z') };

const endpoints: TenantEndpoints = {
  tenantId: TENANT,
  authority: `https://login.example.test/${TENANT}`,
  scope: `${ORIGIN}/.default`,
  apiOrigin: ORIGIN,
  feedBaseUrl: FEED,
};

class FakeTokens implements TokenProvider {
  readonly calls: Array<{ forceRefresh?: boolean }> = [];
  getToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    this.calls.push(options);
    return Promise.resolve(`token-${this.calls.length}`);
  }
}

interface Setup {
  clock: ManualClock;
  agent: MockAgent;
  api: FakeHost;
  foreign: FakeHost;
  tokens: FakeTokens;
  metrics: Metrics;
  client: ManagementApiClient;
}

const agents: MockAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
});

function setup(overrides: Partial<ApiClientOptions> & { clock?: ManualClock } = {}): Setup {
  const clock = overrides.clock ?? new ManualClock();
  const agent = newMockAgent();
  agents.push(agent);
  const api = new FakeHost(agent, ORIGIN);
  const foreign = new FakeHost(agent, FOREIGN);
  const tokens = new FakeTokens();
  const metrics = createMetrics(new Registry(), { perTenantDetail: true });
  const client = new ManagementApiClient({
    endpoints,
    publisherIdentifier: PUBLISHER,
    tokens,
    dispatcher: agent,
    budget: new RateBudget(600_000, clock),
    clock,
    metrics,
    logger: silentLogger,
    timeoutMs: 5_000,
    maxBackoffMs: 60_000,
    random: () => 0.5,
    ...overrides,
  });
  return { clock, agent, api, foreign, tokens, metrics, client };
}

async function counter(metric: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Lets the code under test run, advancing the manual clock whenever it sleeps, until `promise` settles. */
async function settle<T>(promise: Promise<T>, clock: ManualClock): Promise<T> {
  let done = false;
  const observed = promise.finally(() => {
    done = true;
  });
  observed.catch(() => undefined);
  while (!done) {
    await waitFor(() => done || clock.sleeping > 0, { what: 'the client to settle or sleep' });
    if (!done) await advance(clock, 60_000);
  }
  return observed;
}

async function collect(pages: AsyncGenerator<ContentListing[]>): Promise<ContentListing[][]> {
  const out: ContentListing[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function collectUntilError(pages: AsyncGenerator<ContentListing[]>): Promise<{ pages: ContentListing[][]; error: unknown }> {
  const out: ContentListing[][] = [];
  try {
    for await (const page of pages) out.push(page);
  } catch (error) {
    return { pages: out, error };
  }
  return { pages: out, error: undefined };
}

function listing(id: string): ContentListing {
  return {
    contentType: 'Audit.SharePoint',
    contentId: id,
    contentUri: `${FEED}/audit/${id}`,
    contentCreated: '2026-11-20T01:00:00.000Z',
    contentExpiration: '2026-11-27T01:00:00.000Z',
  };
}

function publisherValues(request: SeenRequest): string[] {
  return [...request.url.searchParams.entries()].filter(([key]) => key.toLowerCase() === 'publisheridentifier').map(([, value]) => value);
}

function expectCode(error: unknown, code: string): ConnectorError {
  expect(error).toBeInstanceOf(ConnectorError);
  expect((error as ConnectorError).code).toBe(code);
  return error as ConnectorError;
}

describe('ManagementApiClient: PublisherIdentifier and token (o365-api.md §1.2, DESIGN invariant 4)', () => {
  it('pages through NextPageUri in any header case, follows empty pages, and signs every call once', async () => {
    const { api, client, foreign } = setup();
    // The service may lower-case parameter names inside NextPageUri (o365-api.md §1.7).
    const page2 = `${FEED}/subscriptions/content?contentType=Audit.SharePoint&starttime=2026-11-20T00:00:00&endtime=2026-11-20T06:00:00&nextPage=p2`;
    const page3 = `${FEED}/subscriptions/content?contentType=Audit.SharePoint&startTime=2026-11-20T00:00:00&endTime=2026-11-20T06:00:00&nextPage=p3&publisheridentifier=${PUBLISHER}`;
    api.answer(
      json(200, [listing('a'), listing('b')], { NextPageUri: page2 }),
      json(200, [], { nextpageuri: page3 }),
      json(200, [listing('c')]),
    );

    const pages = await collect(client.listContent('Audit.SharePoint', WINDOW));

    expect(pages.map((page) => page.map((item) => item.contentId))).toEqual([['a', 'b'], [], ['c']]);
    expect(api.requests).toHaveLength(3);
    const [first, second, third] = api.requests as [SeenRequest, SeenRequest, SeenRequest];
    expect(first.url.pathname).toBe(`/api/v1.0/${TENANT}/activity/feed/subscriptions/content`);
    expect(first.url.searchParams.get('startTime')).toBe('2026-11-20T00:00:00');
    expect(first.url.searchParams.get('endTime')).toBe('2026-11-20T06:00:00');
    expect(second.url.searchParams.get('nextPage')).toBe('p2');
    expect(second.url.searchParams.get('endtime')).toBe('2026-11-20T06:00:00');
    expect(third.url.searchParams.get('nextPage')).toBe('p3');
    for (const request of api.requests) {
      // Exactly one PublisherIdentifier, whatever case the NextPageUri already used.
      expect(publisherValues(request)).toEqual([PUBLISHER]);
      expect(request.headers['authorization']).toBe('Bearer token-' + String(api.requests.indexOf(request) + 1));
    }
    expect(foreign.requests).toEqual([]);
  });

  it('adds PublisherIdentifier to blob downloads and keeps the $ of the contentId in the path', async () => {
    const { api, client } = setup();
    api.answer(json(200, [{ Id: 'r1' }]));

    const blob = await client.openBlob(`${FEED}/audit/${CONTENT_ID}`);
    let text = '';
    for await (const chunk of blob.body) text += Buffer.from(chunk).toString('utf8');

    expect(JSON.parse(text)).toEqual([{ Id: 'r1' }]);
    const [request] = api.requests as [SeenRequest];
    expect(request.method).toBe('GET');
    expect(request.path.startsWith(`/api/v1.0/${TENANT}/activity/feed/audit/${CONTENT_ID}?`)).toBe(true);
    expect(publisherValues(request)).toEqual([PUBLISHER]);
    expect(request.headers['authorization']).toBe('Bearer token-1');
  });

  it('signs subscription calls too', async () => {
    const { api, client } = setup();
    api.answer(json(200, { contentType: 'Audit.SharePoint', status: 'enabled', webhook: null }), json(200, [{ contentType: 'Audit.SharePoint', status: 'enabled', webhook: null }]));

    await expect(client.startSubscription('Audit.SharePoint')).resolves.toBe('started');
    await expect(client.listSubscriptions()).resolves.toEqual([{ contentType: 'Audit.SharePoint', status: 'enabled' }]);

    const [start, list] = api.requests as [SeenRequest, SeenRequest];
    expect(start.method).toBe('POST');
    expect(start.url.pathname).toBe(`/api/v1.0/${TENANT}/activity/feed/subscriptions/start`);
    expect(start.url.searchParams.get('contentType')).toBe('Audit.SharePoint');
    expect(list.url.pathname).toBe(`/api/v1.0/${TENANT}/activity/feed/subscriptions/list`);
    for (const request of api.requests) {
      expect(publisherValues(request)).toEqual([PUBLISHER]);
      expect(request.headers['authorization']).toMatch(/^Bearer token-\d$/);
    }
  });
});

describe('ManagementApiClient: the service clock', () => {
  it('learns how far Microsoft\'s clock is ahead from the Date header, ignoring differences under 5 s', async () => {
    const { api, client, clock } = setup();
    const ahead = new Date(clock.now() + 20 * 60_000).toUTCString();
    const close = new Date(clock.now() + 2_000).toUTCString();
    api.answer(json(200, [], { date: ahead }), json(200, [], { date: close }));

    expect(client.serverClockOffsetMs()).toBe(0);
    await client.listSubscriptions();
    expect(client.serverClockOffsetMs()).toBe(20 * 60_000);
    await client.listSubscriptions();
    expect(client.serverClockOffsetMs()).toBe(0);
  });
});

describe('ManagementApiClient: NextPageUri guards', () => {
  it('stops a NextPageUri that loops back with API_PAGE_LOOP', async () => {
    const { api, client } = setup();
    const page2 = `${FEED}/subscriptions/content?contentType=Audit.SharePoint&startTime=2026-11-20T00:00:00&endTime=2026-11-20T06:00:00&nextPage=p2`;
    // Same page again, only the parameter case differs.
    const loop = page2.replace('nextPage=', 'nextpage=').replace('nextpage=p2', 'nextpage=P2');
    api.answer(json(200, [listing('a')], { NextPageUri: page2 }), json(200, [listing('b')], { NextPageUri: loop }));

    const { pages, error } = await collectUntilError(client.listContent('Audit.SharePoint', WINDOW));

    expect(pages).toHaveLength(2);
    expectCode(error, 'API_PAGE_LOOP');
    expect(api.requests).toHaveLength(2);
  });

  it('stops a chain longer than maxPagesPerWindow', async () => {
    const { api, client } = setup({ maxPagesPerWindow: 3 });
    for (let i = 1; i <= 5; i += 1) api.answer(json(200, [], { NextPageUri: `${FEED}/subscriptions/content?contentType=Audit.SharePoint&nextPage=n${i}` }));

    const { error } = await collectUntilError(client.listContent('Audit.SharePoint', WINDOW));

    expectCode(error, 'API_PAGE_LOOP');
    expect(api.requests).toHaveLength(3);
  });

  it.each([
    ['a foreign host', `${FOREIGN}/api/v1.0/${TENANT}/activity/feed/subscriptions/content?contentType=Audit.SharePoint&nextPage=x`],
    ['another tenant on the API host', `${ORIGIN}/api/v1.0/${OTHER_TENANT}/activity/feed/subscriptions/content?contentType=Audit.SharePoint&nextPage=x`],
    ['plain http on the API host', `http://manage.example.test/api/v1.0/${TENANT}/activity/feed/subscriptions/content?nextPage=x`],
    ['a path escaping the feed', `${ORIGIN}/api/v1.0/${TENANT}/activity/feed/../../../${OTHER_TENANT}/activity/feed/subscriptions/content`],
    ['an unparsable URL', 'not a url'],
  ])('refuses a NextPageUri on %s without sending anything there', async (_label, next) => {
    const { api, foreign, client, metrics } = setup();
    api.answer(json(200, [listing('a')], { NextPageUri: next }));

    const { pages, error } = await collectUntilError(client.listContent('Audit.SharePoint', WINDOW));

    expect(pages).toHaveLength(1);
    const refused = expectCode(error, 'API_FOREIGN_HOST');
    expect(refused.retriable).toBe(false);
    expect(api.requests).toHaveLength(1);
    expect(foreign.requests).toEqual([]);
    expect(await counter(metrics.foreignHostRefused, { tenant: TENANT, kind: 'nextPageUri' })).toBe(1);
  });

  it.each([
    ['a foreign host', `${FOREIGN}/api/v1.0/${TENANT}/activity/feed/audit/${CONTENT_ID}`],
    ['localhost over http (seen in the wild)', `http://localhost/${TENANT}/activity/feed/audit/${CONTENT_ID}`],
    ['another tenant on the API host', `${ORIGIN}/api/v1.0/${OTHER_TENANT}/activity/feed/audit/${CONTENT_ID}`],
    ['a look-alike host', `https://manage.example.test.evil.example.test/api/v1.0/${TENANT}/activity/feed/audit/x`],
  ])('refuses a contentUri on %s without sending the token', async (_label, contentUri) => {
    const { api, foreign, client, metrics, tokens } = setup();

    const error = await client.openBlob(contentUri).catch((e: unknown) => e);

    const refused = expectCode(error, 'API_FOREIGN_HOST');
    expect(refused.stage).toBe('download');
    expect(api.requests).toEqual([]);
    expect(foreign.requests).toEqual([]);
    expect(tokens.calls).toEqual([]);
    expect(await counter(metrics.foreignHostRefused, { tenant: TENANT, kind: 'contentUri' })).toBe(1);
  });
});

describe('ManagementApiClient: retries (o365-api.md §2.2, §2.4)', () => {
  it('honours Retry-After on AF429 with HTTP 403 and counts the throttling', async () => {
    const { api, client, clock, metrics } = setup();
    api.answer(
      apiError(403, 'AF429', 'Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000', { 'Retry-After': '7' }),
      json(200, [{ Id: 'r1' }]),
    );

    const opened = client.openBlob(`${FEED}/audit/${CONTENT_ID}`);
    await waitFor(() => clock.sleeping > 0, { what: 'the retry wait' });
    expect(api.requests).toHaveLength(1);
    await advance(clock, 6_999);
    expect(api.requests).toHaveLength(1);
    await advance(clock, 1);
    const blob = await opened;
    for await (const chunk of blob.body) expect(chunk.byteLength).toBeGreaterThan(0);

    expect(api.requests).toHaveLength(2);
    expect(await counter(metrics.throttled, { tenant: TENANT })).toBe(1);
  });

  it('honours Retry-After on HTTP 429 during listing and pauses the whole tenant budget', async () => {
    const clock = new ManualClock();
    const budget = new RateBudget(600_000, clock);
    const { api, client, metrics } = setup({ clock, budget });
    api.answer(apiError(429, 'AF429', 'Too many requests. Method=GET, PublisherId=x', { 'retry-after': '30' }), json(200, [listing('a')]));

    const listed = collect(client.listContent('Audit.SharePoint', WINDOW));
    await waitFor(() => clock.sleeping > 0, { what: 'the retry wait' });
    // Any other call of this tenant (a blob download, say) waits as well.
    let otherCallMayGo = false;
    const otherCall = budget.take().then(() => {
      otherCallMayGo = true;
    });
    await advance(clock, 29_000);
    expect(api.requests).toHaveLength(1);
    expect(otherCallMayGo).toBe(false);
    await advance(clock, 1_000);
    const pages = await listed;
    await otherCall;

    expect(pages).toEqual([[listing('a')]]);
    expect(api.requests).toHaveLength(2);
    expect(await counter(metrics.throttled, { tenant: TENANT })).toBe(1);
  });

  it('backs off with jitter when AF429 comes without Retry-After', async () => {
    const { api, client, clock } = setup();
    api.answer(apiError(403, 'AF429', 'Too many requests.'), json(200, []));

    const listed = collect(client.listContent('Audit.SharePoint', WINDOW));
    await waitFor(() => clock.sleeping > 0, { what: 'the retry wait' });
    // random 0.5 × base 1 s on the first retry.
    await advance(clock, 499);
    expect(api.requests).toHaveLength(1);
    await advance(clock, 1);
    await expect(listed).resolves.toEqual([[]]);
    expect(api.requests).toHaveLength(2);
  });

  it('retries a burst of 5xx answers, then succeeds', async () => {
    const { api, client, clock } = setup();
    api.answer(
      apiError(500, 'AF50000', 'An internal error occurred.  Retry the request.'),
      () => ({ statusCode: 503, data: 'Service Unavailable' }),
      () => ({ statusCode: 502, data: '<html>bad gateway</html>' }),
      json(200, [listing('a')]),
    );

    const pages = await settle(collect(client.listContent('Audit.SharePoint', WINDOW)), clock);

    expect(pages).toEqual([[listing('a')]]);
    expect(api.requests).toHaveLength(4);
  });

  it('gives up after maxAttempts with the last retriable error', async () => {
    const { api, client, clock } = setup({ maxAttempts: 3 });
    for (let i = 0; i < 3; i += 1) api.answer(() => ({ statusCode: 500, data: '' }));

    const error = await settle(client.listSubscriptions(), clock).catch((e: unknown) => e);

    expect(expectCode(error, 'API_SERVER_ERROR').retriable).toBe(true);
    expect(api.requests).toHaveLength(3);
  });

  it('refreshes the token with forceRefresh after a plain 401, then succeeds', async () => {
    const { api, client, clock, tokens } = setup();
    api.answer(() => ({ statusCode: 401, data: '' }), json(200, []));

    await settle(client.listSubscriptions(), clock);

    expect(tokens.calls.map((call) => call.forceRefresh === true)).toEqual([false, true]);
    expect(api.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('does not retry AF10001 (permission missing)', async () => {
    const { api, client, clock } = setup();
    api.answer(apiError(401, 'AF10001', 'The permission set () sent in the request does not include the expected permission.'));

    const error = await settle(client.listSubscriptions(), clock).catch((e: unknown) => e);

    expect(expectCode(error, 'API_PERMISSION_MISSING').retriable).toBe(false);
    expect(api.requests).toHaveLength(1);
  });
});

describe('ManagementApiClient: answers that mean something specific', () => {
  it('turns the odd split "Tenant <id> does not exist" answer into API_AUDIT_DISABLED', async () => {
    const { api, client, clock } = setup();
    // o365-api.md §2.3: the text is split between code and message, with a .NET stack trace.
    api.answer(
      json(400, {
        error: {
          code: `StartSubscription [CorrId=0f0e0d0c-0b0a-0908-0706-050403020100][TenantId=${TENANT},ContentType=Audit.SharePoint,ApplicationId=11111111-2222-3333-4444-555555555555,PublisherId=${PUBLISHER}][AppId`,
          message: `1111111-2222-3333-4444-555555555555] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${TENANT} does not exist.\r\n   at Microsoft.Office.Compliance.Audit.API.AzureManager.<GetSubscriptionTableClientForTenantAsync>d__52.MoveNext() in d:\\dbs\\sh\\nibr\\AzureManager.cs:line 2113`,
        },
      }),
    );

    const error = await settle(client.startSubscription('Audit.SharePoint'), clock).catch((e: unknown) => e);

    const disabled = expectCode(error, 'API_AUDIT_DISABLED');
    expect(disabled.retriable).toBe(false);
    expect(disabled.httpStatus).toBe(400);
    expect(api.requests).toHaveLength(1);
  });

  it('treats AF20024 on start as already enabled', async () => {
    const { api, client } = setup();
    api.answer(apiError(400, 'AF20024', 'The subscription is already enabled. No property change.'));

    await expect(client.startSubscription('Audit.SharePoint')).resolves.toBe('already-enabled');
    expect(api.requests).toHaveLength(1);
  });

  it('reports the 15-minute start rule as API_START_THROTTLED with the wait, without retrying', async () => {
    const { api, client, clock } = setup();
    api.answer(json(429, { error: { code: '', message: 'Too many frequent subscription start requests. Please retry again after 14m 56s' } }));

    const error = await settle(client.startSubscription('Audit.SharePoint'), clock).catch((e: unknown) => e);

    const throttled = expectCode(error, 'API_START_THROTTLED');
    expect(throttled.retryAfterSeconds).toBe(896);
    expect(api.requests).toHaveLength(1);
  });

  it('does not retry an expired blob (AF20051)', async () => {
    const { api, client, clock } = setup();
    api.answer(apiError(400, 'AF20051', `Content requested with the key ${CONTENT_ID} has already expired. Content older than 7 days cannot be retrieved.`));

    const error = await settle(client.openBlob(`${FEED}/audit/${CONTENT_ID}`), clock).catch((e: unknown) => e);

    expect(expectCode(error, 'API_CONTENT_EXPIRED').retriable).toBe(false);
    expect(api.requests).toHaveLength(1);
  });

  it('throws AF20055 at once so the poller can plan a new window', async () => {
    const { api, client, clock } = setup();
    api.answer(
      apiError(400, 'AF20055', 'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.'),
    );

    const error = await settle(collect(client.listContent('Audit.SharePoint', WINDOW)), clock).catch((e: unknown) => e);

    expect(expectCode(error, 'API_INVALID_WINDOW').stage).toBe('listing');
    expect(api.requests).toHaveLength(1);
    expect(clock.sleeping).toBe(0);
  });
});
