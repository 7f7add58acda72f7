import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import type { TenantEndpoints } from '../../../../src/source/o365/endpoints.ts';
import { createMsalTokenProvider, mapAuthError } from '../../../../src/source/o365/token-provider.ts';

const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
const CLIENT_ID = '3f2e1d0c-9b8a-4766-8554-433221100fed';

/** What Entra ID puts in an msal ServerError: the AADSTS code leads the description. */
function entraError(aadsts: string, text: string): Error {
  return Object.assign(new Error(`invalid_client: ${aadsts}: ${text}`), { errorCode: 'invalid_client', errorMessage: `${aadsts}: ${text}` });
}

describe('mapAuthError (what the tenant admin has to fix)', () => {
  it.each([
    ['AADSTS700016', `Application with identifier '${CLIENT_ID}' was not found in the directory '${TENANT}'.`, 'AUTH_CONSENT_MISSING'],
    ['AADSTS65001', 'The user or administrator has not consented to use the application.', 'AUTH_CONSENT_MISSING'],
    ['AADSTS7000215', 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.', 'AUTH_BAD_SECRET'],
    ['AADSTS7000222', 'The provided client secret keys for app are expired.', 'AUTH_BAD_SECRET'],
    ['AADSTS700027', 'Client assertion failed signature validation.', 'AUTH_BAD_CERTIFICATE'],
    ['AADSTS90002', `Tenant '${TENANT}' not found.`, 'AUTH_UNKNOWN_TENANT'],
    ['AADSTS50034', 'Some other problem.', 'AUTH_FAILED'],
  ])('%s → %s, not retriable', (aadsts, text, code) => {
    const error = mapAuthError(entraError(aadsts, text), TENANT);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.code).toBe(code);
    expect(error.retriable).toBe(false);
    expect(error.stage).toBe('auth');
    expect(error.message).toContain(aadsts);
  });

  it('names the tenant in the consent message', () => {
    expect(mapAuthError(entraError('AADSTS700016', 'not found'), TENANT).message).toContain(TENANT);
  });

  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' })],
    ['a timeout', new Error('Headers Timeout Error: timeout')],
    ['a DNS failure', new Error('getaddrinfo ENOTFOUND login.microsoftonline.com')],
    ['an msal network error', Object.assign(new Error('Network request failed'), { errorCode: 'network_error' })],
  ])('maps %s to a retriable AUTH_UNAVAILABLE', (_label, cause) => {
    const error = mapAuthError(cause, TENANT);
    expect(error.code).toBe('AUTH_UNAVAILABLE');
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it('keeps a ConnectorError as it is, and an unknown failure as a non-retriable AUTH_FAILED', () => {
    const original = new ConnectorError('X', 'y', { stage: 'auth', retriable: true });
    expect(mapAuthError(original, TENANT)).toBe(original);
    const unknown = mapAuthError('something odd', TENANT);
    expect(unknown.code).toBe('AUTH_FAILED');
    expect(unknown.retriable).toBe(false);
  });
});

interface SeenCall {
  method: 'GET' | 'POST';
  url: string;
  body: string | undefined;
}

/** msal-node's INetworkModule, answering token requests like Entra ID's v2 endpoint. */
function fakeEntra(answer: (call: SeenCall, n: number) => NetworkResponse<unknown>): { client: INetworkModule; calls: SeenCall[] } {
  const calls: SeenCall[] = [];
  const respond = <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const call = { method, url, body: options?.body };
    calls.push(call);
    return Promise.resolve(answer(call, calls.length) as NetworkResponse<T>);
  };
  return {
    calls,
    client: {
      sendGetRequestAsync: (url, options) => respond('GET', url, options),
      sendPostRequestAsync: (url, options) => respond('POST', url, options),
    },
  };
}

const endpoints: TenantEndpoints = {
  tenantId: TENANT,
  authority: `https://login.example.test/${TENANT}`,
  scope: 'https://manage.example.test/.default',
  apiOrigin: 'https://manage.example.test',
  feedBaseUrl: `https://manage.example.test/api/v1.0/${TENANT}/activity/feed`,
};

const tokenAnswer = (n: number): NetworkResponse<unknown> => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `access-token-${n}` },
});

describe('createMsalTokenProvider', () => {
  it('posts client credentials to <authority>/oauth2/v2.0/token for <api>/.default, with no discovery call', async () => {
    const entra = fakeEntra((_call, n) => tokenAnswer(n));
    const provider = createMsalTokenProvider({
      clientId: CLIENT_ID,
      credential: { kind: 'secret', clientSecret: 'not-a-real-secret' },
      endpoints,
      networkClient: entra.client,
    });

    await expect(provider.getToken()).resolves.toBe('access-token-1');

    expect(entra.calls.filter((call) => call.method === 'GET')).toEqual([]);
    expect(entra.calls).toHaveLength(1);
    const [call] = entra.calls as [SeenCall];
    expect(call.method).toBe('POST');
    expect(new URL(call.url).origin + new URL(call.url).pathname).toBe(`https://login.example.test/${TENANT}/oauth2/v2.0/token`);
    const form = new URLSearchParams(call.body ?? '');
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe(CLIENT_ID);
    expect(form.get('client_secret')).toBe('not-a-real-secret');
    expect(form.get('scope')?.split(' ')).toContain('https://manage.example.test/.default');
  });

  it('serves the cached token until forceRefresh asks for a new one', async () => {
    const entra = fakeEntra((_call, n) => tokenAnswer(n));
    const provider = createMsalTokenProvider({ clientId: CLIENT_ID, credential: { kind: 'secret', clientSecret: 's' }, endpoints, networkClient: entra.client });

    expect(await provider.getToken()).toBe('access-token-1');
    expect(await provider.getToken()).toBe('access-token-1');
    expect(entra.calls).toHaveLength(1);
    expect(await provider.getToken({ forceRefresh: true })).toBe('access-token-2');
    expect(entra.calls).toHaveLength(2);
  });

  it('maps an Entra ID error answer to a ConnectorError the status can explain', async () => {
    const entra = fakeEntra(() => ({
      status: 401,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: {
        error: 'invalid_client',
        error_description: `AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-20 12:00:00Z`,
        error_codes: [7000215],
      },
    }));
    const provider = createMsalTokenProvider({ clientId: CLIENT_ID, credential: { kind: 'secret', clientSecret: 'Sup3r~Secret.Value' }, endpoints, networkClient: entra.client });

    const error = await provider.getToken().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('AUTH_BAD_SECRET');
    expect((error as ConnectorError).message).not.toContain('Sup3r~Secret.Value');
  });

  it('maps a network failure of the token endpoint to a retriable AUTH_UNAVAILABLE', async () => {
    const client: INetworkModule = {
      sendGetRequestAsync: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:443')),
      sendPostRequestAsync: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:443')),
    };
    const provider = createMsalTokenProvider({ clientId: CLIENT_ID, credential: { kind: 'secret', clientSecret: 's' }, endpoints, networkClient: client });

    const error = await provider.getToken().catch((e: unknown) => e);

    expect((error as ConnectorError).code).toBe('AUTH_UNAVAILABLE');
    expect((error as ConnectorError).retriable).toBe(true);
  });

  it('shares one fetch between concurrent callers and renews five minutes before expiry', async () => {
    const entra = fakeEntra((_call, n) => tokenAnswer(n));
    let nowMs = Date.now();
    const provider = createMsalTokenProvider({ clientId: CLIENT_ID, credential: { kind: 'secret', clientSecret: 's' }, endpoints, networkClient: entra.client, now: () => nowMs });

    expect(await Promise.all([provider.getToken(), provider.getToken(), provider.getToken()])).toEqual(['access-token-1', 'access-token-1', 'access-token-1']);
    expect(entra.calls).toHaveLength(1);
    // expires_in 3599 s: still served from the cache 54 min later, renewed once under 5 min are left.
    nowMs += 3_290_000;
    expect(await provider.getToken()).toBe('access-token-1');
    nowMs += 10_000;
    expect(await provider.getToken()).toBe('access-token-2');
    expect(entra.calls).toHaveLength(2);
  });

  it('does not keep a failed fetch: the next call asks again', async () => {
    let fail = true;
    const entra = fakeEntra((_call, n) =>
      fail ? { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>busy</html>' } : tokenAnswer(n),
    );
    const provider = createMsalTokenProvider({ clientId: CLIENT_ID, credential: { kind: 'secret', clientSecret: 's' }, endpoints, networkClient: entra.client });
    await expect(provider.getToken()).rejects.toBeInstanceOf(ConnectorError);
    fail = false;
    await expect(provider.getToken()).resolves.toMatch(/^access-token-/);
  });
});
