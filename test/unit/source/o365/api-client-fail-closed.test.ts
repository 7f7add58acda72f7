import { Registry } from 'prom-client';
import type { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import { ManagementApiClient } from '../../../../src/source/o365/api-client.ts';
import { RateBudget } from '../../../../src/source/o365/rate-budget.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';
import { createMetrics } from '../../../../src/telemetry/metrics.ts';
import { ManualClock } from '../../../support/time.ts';
import { FakeHost, json, newMockAgent } from './fake-api-host.ts';

const ORIGIN = 'https://manage.example.test';
const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
const FEED = `${ORIGIN}/api/v1.0/${TENANT}/activity/feed`;

const agents: MockAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
});

function client(token: string): { api: FakeHost; client: ManagementApiClient } {
  const agent = newMockAgent();
  agents.push(agent);
  const api = new FakeHost(agent, ORIGIN);
  const clock = new ManualClock();
  return {
    api,
    client: new ManagementApiClient({
      endpoints: { tenantId: TENANT, authority: `https://login.example.test/${TENANT}`, scope: `${ORIGIN}/.default`, apiOrigin: ORIGIN, feedBaseUrl: FEED },
      publisherIdentifier: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      tokens: { getToken: () => Promise.resolve(token) },
      dispatcher: agent,
      budget: new RateBudget(600_000, clock),
      clock,
      metrics: createMetrics(new Registry()),
      logger: silentLogger,
      timeoutMs: 5_000,
      maxBackoffMs: 60_000,
    }),
  };
}

describe('ManagementApiClient fails closed', () => {
  it.each([[''], ['has space'], ['line\r\nX-Injected: 1']])('never sends a request with the bearer %j', async (token) => {
    const { api, client: c } = client(token);
    api.answer(json(200, []));
    const error = await c.listSubscriptions().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('AUTH_BAD_ANSWER');
    expect(api.requests).toEqual([]);
  });

  it('names the refused URL (query cut) and the expected feed, once each', async () => {
    const { api, client: c } = client('token-1');
    const raw = `${FEED}/..%2F..%2Fother%2Factivity%2Ffeed/audit/x?sig=SECRET`;
    const error = (await c.openBlob(raw).catch((e: unknown) => e)) as ConnectorError;
    expect(error.code).toBe('API_FOREIGN_HOST');
    expect(error.message).toContain(`contentUri ${FEED}/..%2F..%2Fother%2Factivity%2Ffeed/audit/x refused`);
    expect(error.message).toContain(`expected a URL under ${FEED}/…`);
    expect(error.message).not.toContain('SECRET');
    expect(error.message.split(ORIGIN).length - 1).toBe(2);
    expect(api.requests).toEqual([]);
  });

  it('does not follow a redirect of a blob download; the error names the Location without its query', async () => {
    const { api, client: c } = client('token-1');
    api.answer(() => ({ statusCode: 302, data: '', responseOptions: { headers: { location: 'https://cdn.example.invalid/blob?sig=SECRET' } } }));
    const error = (await c.openBlob(`${FEED}/audit/abc`).catch((e: unknown) => e)) as ConnectorError;
    expect(error.code).toBe('API_REDIRECTED');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('https://cdn.example.invalid/blob');
    expect(error.message).not.toContain('SECRET');
    expect(api.requests).toHaveLength(1);
  });
});
