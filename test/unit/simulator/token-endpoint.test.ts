import { randomUUID } from 'node:crypto';
import { decodeJwt, importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientCertificate } from '../../../src/simulator/tls.ts';
import { startTestSim, type TestSim } from './helpers.ts';

let t: TestSim;
let healthy: string;

beforeAll(async () => {
  t = await startTestSim({ tenants: [{ scenario: 'healthy' }, { scenario: 'no-consent' }, { scenario: 'permission-missing' }] });
  healthy = t.sim.tenants[0]!.id;
});
afterAll(async () => t.close());

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString();
}

async function postToken(tenant: string, values: Record<string, string>) {
  return t.call('POST', t.sim.tokenUrl(tenant), { body: form(values), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

async function assertion(options: { alg?: 'RS256' | 'PS256'; key?: string; thumbprint?: 'sha1' | 'sha256'; aud?: string; exp?: number; sub?: string } = {}): Promise<string> {
  const cert = t.sim.clientCertificate;
  const alg = options.alg ?? 'RS256';
  const key = await importPKCS8(options.key ?? cert.keyPem!, alg);
  const useSha256 = (options.thumbprint ?? (alg === 'PS256' ? 'sha256' : 'sha1')) === 'sha256';
  const header = useSha256
    ? { alg, typ: 'JWT', 'x5t#S256': Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') }
    : { alg, typ: 'JWT', x5t: Buffer.from(cert.thumbprintSha1, 'hex').toString('base64url') };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader(header)
    .setAudience(options.aud ?? t.sim.tokenUrl(healthy))
    .setIssuer(t.sim.clientId)
    .setSubject(options.sub ?? t.sim.clientId)
    .setNotBefore(now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(key);
}

const base = () => ({ grant_type: 'client_credentials', client_id: t.sim.clientId, scope: t.sim.scope });
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('token endpoint (o365-api.md §3 [DOC GS] token v2, app-only claims)', () => {
  it('issues an app-only token with ActivityFeed.Read for a client secret', async () => {
    const res = await postToken(healthy, { ...base(), client_secret: t.sim.clientSecret });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const claims = decodeJwt(body.access_token as string);
    expect(claims).toMatchObject({ aud: t.sim.baseUrl, iss: `https://sts.windows.net/${healthy}/`, tid: healthy, appid: t.sim.clientId, appidacr: '1', ver: '1.0' });
    expect(claims['roles']).toContain('ActivityFeed.Read');
  });

  it('accepts the tenant domain in place of the id', async () => {
    const res = await postToken(t.sim.tenants[0]!.domain, { ...base(), client_secret: t.sim.clientSecret });
    expect(res.status).toBe(200);
  });

  it('answers a wrong secret with invalid_client AADSTS7000215 in Entra JSON shape', async () => {
    const res = await postToken(healthy, { ...base(), client_secret: 'wrong' });
    expect(res.status).toBe(401);
    const body = res.json();
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000215]);
    expect(body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided/);
    expect(body).toHaveProperty('trace_id');
    expect(body).toHaveProperty('correlation_id');
  });

  it('answers an unknown tenant with AADSTS90002', async () => {
    const res = await postToken(randomUUID(), { ...base(), client_secret: t.sim.clientSecret });
    expect(res.status).toBe(400);
    expect(res.json().error_codes).toEqual([90002]);
  });

  it('answers a tenant without consent with AADSTS700016 (app not in directory)', async () => {
    const res = await postToken(t.sim.tenants[1]!.id, { ...base(), client_secret: t.sim.clientSecret });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('unauthorized_client');
    expect(res.json().error_description).toMatch(/^AADSTS700016: Application with identifier/);
  });

  it('issues a token without roles for permission-missing tenants', async () => {
    const token = await t.token(t.sim.tenants[2]!.id);
    expect(decodeJwt(token)['roles']).toBeUndefined();
  });

  it('requires /.default on the scope (AADSTS1002012) and a known resource (AADSTS500011)', async () => {
    expect((await postToken(healthy, { ...base(), scope: `${t.sim.baseUrl}/ActivityFeed.Read`, client_secret: t.sim.clientSecret })).json().error_codes).toEqual([1002012]);
    expect((await postToken(healthy, { ...base(), scope: 'https://graph.microsoft.com/.default', client_secret: t.sim.clientSecret })).json().error_codes).toEqual([500011]);
  });

  it('answers a missing credential with AADSTS7000218', async () => {
    expect((await postToken(healthy, base())).json().error_codes).toEqual([7000218]);
  });
});

describe('certificate client assertion (o365-api.md §3 "Certificate" [DOC GS])', () => {
  it('accepts an RS256 assertion with x5t and marks the token appidacr 2', async () => {
    const res = await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion() });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.json().access_token as string)['appidacr']).toBe('2');
  });

  it('accepts a PS256 assertion with x5t#S256 (what msal-node sends with a SHA-256 thumbprint)', async () => {
    const res = await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion({ alg: 'PS256' }) });
    expect(res.status).toBe(200);
  });

  it('refuses a signature by another key (AADSTS700027)', async () => {
    const other = generateClientCertificate();
    const res = await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion({ key: other.keyPem }) });
    expect(res.status).toBe(401);
    expect(res.json().error_codes).toEqual([700027]);
  });

  it('refuses an expired assertion (AADSTS700024), a wrong audience and a wrong subject', async () => {
    const expired = await assertion({ exp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: expired })).json().error_codes).toEqual([700024]);
    const wrongAud = await assertion({ aud: 'https://login.microsoftonline.com/other/oauth2/v2.0/token' });
    expect((await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: wrongAud })).status).toBe(401);
    const wrongSub = await assertion({ sub: randomUUID() });
    expect((await postToken(healthy, { ...base(), client_assertion_type: ASSERTION_TYPE, client_assertion: wrongSub })).json().error_codes).toEqual([700021]);
  });
});

describe('OpenID metadata msal-node reads', () => {
  it('serves openid-configuration with the fields msal-common requires, on the authority origin', async () => {
    const res = await t.call('GET', `${t.sim.authority(healthy)}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.token_endpoint).toBe(t.sim.tokenUrl(healthy));
    expect(new URL(body.issuer as string).origin).toBe(t.sim.baseUrl);
    expect(body).toHaveProperty('authorization_endpoint');
    expect(body).toHaveProperty('jwks_uri');
    const jwks = await t.call('GET', body.jwks_uri as string);
    expect(jwks.json().keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
  });

  it('serves instance discovery', async () => {
    const res = await t.call('GET', `${t.sim.baseUrl}/common/discovery/instance?api-version=1.1`);
    expect(res.json().metadata[0].aliases).toEqual([new URL(t.sim.baseUrl).host]);
  });
});
