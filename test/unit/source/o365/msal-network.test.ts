import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import type { TenantEndpoints } from '../../../../src/source/o365/endpoints.ts';
import { msalNetworkClient } from '../../../../src/source/o365/msal-network.ts';
import { assertBearer, createMsalTokenProvider } from '../../../../src/source/o365/token-provider.ts';
import { statusForError } from '../../../../src/source/poller/tenant-status.ts';

const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
const LOGIN = 'https://login.example.test';
const endpoints: TenantEndpoints = {
  tenantId: TENANT,
  authority: `${LOGIN}/${TENANT}`,
  scope: 'https://manage.example.test/.default',
  apiOrigin: 'https://manage.example.test',
  feedBaseUrl: `https://manage.example.test/api/v1.0/${TENANT}/activity/feed`,
};
const TOKEN_PATH = `/${TENANT}/oauth2/v2.0/token`;

/**
 * The real network client msal-node is given, on an undici MockAgent: what msal sees of each answer
 * of the token endpoint, and what the token provider makes of it.
 */
describe('token answers that are not a token are auth failures, never an empty bearer', () => {
  let agent: MockAgent;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });
  afterEach(async () => {
    await agent.close();
  });

  const provider = (): ReturnType<typeof createMsalTokenProvider> =>
    createMsalTokenProvider({ clientId: '3f2e1d0c-9b8a-4766-8554-433221100fed', credential: { kind: 'secret', clientSecret: 'S3cret' }, endpoints, networkClient: msalNetworkClient(agent, 2_000) });
  const answer = (status: number, body: string, headers: Record<string, string> = {}): void => {
    agent.get(LOGIN).intercept({ path: (path: string) => path.startsWith(TOKEN_PATH), method: 'POST' }).reply(status, body, { headers });
  };
  const failure = async (): Promise<ConnectorError> => {
    const error: unknown = await provider().getToken().then(
      (token) => new Error(`a token came back: ${JSON.stringify(token)}`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  };

  it.each([
    ['307 with an empty body', 307, '', { location: 'https://elsewhere.example.invalid/token?x=1' }, 'AUTH_BAD_ANSWER', /HTTP 307 redirecting to https:\/\/elsewhere\.example\.invalid\/token;/],
    ['302 with an empty body', 302, '', { location: 'https://elsewhere.example.invalid/' }, 'AUTH_BAD_ANSWER', /HTTP 302/],
    ['200 with an empty body', 200, '', { 'content-type': 'application/json' }, 'AUTH_BAD_ANSWER', /an empty body/],
    ['200 with a truncated body', 200, '{"token_type":"Bearer","access_tok', { 'content-type': 'application/json' }, 'AUTH_BAD_ANSWER', /not JSON/],
    ['200 without access_token', 200, '{"token_type":"Bearer","expires_in":3599}', { 'content-type': 'application/json' }, 'AUTH_BAD_ANSWER', /without access_token/],
    ['200 with an empty access_token', 200, '{"token_type":"Bearer","expires_in":3599,"access_token":""}', { 'content-type': 'application/json' }, 'AUTH_BAD_ANSWER', /without access_token/],
    ['500 with an HTML page', 500, '<html><h1>500</h1></html>', { 'content-type': 'text/html' }, 'AUTH_UNAVAILABLE', /HTTP 500 \(text\/html\)/],
    ['403 with an HTML page (a proxy)', 403, '<html>blocked</html>', { 'content-type': 'text/html' }, 'AUTH_BAD_ANSWER', /HTTP 403/],
  ])('%s → %s with a status saying what to check', async (_label, status, body, headers, code, message) => {
    answer(status, body, headers);
    const error = await failure();
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.stage).toBe('auth');
    expect(error.message).not.toContain('S3cret');
    expect(error.message).not.toContain('x=1');
    expect(statusForError(error)).toBe('token-endpoint-failed');
  });

  it('keeps the AADSTS mapping for Entra error JSON', async () => {
    answer(401, JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }), { 'content-type': 'application/json' });
    expect((await failure()).code).toBe('AUTH_BAD_SECRET');
  });

  it('passes a real token through', async () => {
    answer(200, JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'eyJ0eXAi.eyJhdWQi.c2ln' }), { 'content-type': 'application/json' });
    await expect(provider().getToken()).resolves.toBe('eyJ0eXAi.eyJhdWQi.c2ln');
  });

  it('assertBearer refuses empty and malformed tokens', () => {
    expect(() => assertBearer('', TENANT)).toThrow(/no access token/);
    expect(() => assertBearer(undefined, TENANT)).toThrow(/no access token/);
    expect(() => assertBearer('a b', TENANT)).toThrow(/malformed/);
    expect(() => assertBearer('abc\r\nX-Evil: 1', TENANT)).toThrow(/malformed/);
    expect(assertBearer('abc.DEF-_~+/==', TENANT)).toBe('abc.DEF-_~+/==');
  });
});
