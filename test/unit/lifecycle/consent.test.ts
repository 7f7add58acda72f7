import { describe, expect, it } from 'vitest';
import { consentUrl, signState, verifyState } from '../../../src/lifecycle/consent.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('admin consent', () => {
  it('builds the Entra v2 admin-consent URL on the login host of the tenant cloud', () => {
    const url = new URL(consentUrl({ tenantId: TENANT, cloud: 'gcc-high', clientId: 'app', redirectUri: 'https://connector.example/consent/callback', state: 's.t' }));
    expect(url.origin + url.pathname).toBe(`https://login.microsoftonline.us/${TENANT}/v2.0/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'app', scope: 'https://manage.office365.us/.default', redirect_uri: 'https://connector.example/consent/callback', state: 's.t' });
    const commercial = new URL(consentUrl({ tenantId: TENANT, cloud: 'commercial', clientId: 'app', redirectUri: 'https://x/cb', state: 's' }));
    expect(commercial.host).toBe('login.microsoftonline.com');
    expect(commercial.searchParams.get('scope')).toBe('https://manage.office.com/.default');
  });

  it('signs a state naming the tenant, refuses a tampered, foreign-key or expired one', () => {
    const state = signState('secret', TENANT.toUpperCase(), T0 + 3600_000);
    expect(verifyState('secret', state, T0)).toEqual({ ok: true, tenantId: TENANT });
    expect(verifyState('other-secret', state, T0)).toEqual({ ok: false, problem: 'bad-signature' });
    expect(verifyState('secret', state, T0 + 3600_000)).toEqual({ ok: false, problem: 'expired' });
    const [payload = '', signature = ''] = state.split('.');
    const forged = Buffer.from(JSON.stringify({ t: '22222222-2222-4222-8222-222222222222', e: T0 + 3600_000, n: 'x' })).toString('base64url');
    expect(verifyState('secret', `${forged}.${signature}`, T0)).toEqual({ ok: false, problem: 'bad-signature' });
    expect(verifyState('secret', payload, T0)).toEqual({ ok: false, problem: 'malformed' });
    expect(verifyState('secret', 'a.b.c', T0)).toEqual({ ok: false, problem: 'malformed' });
    expect(signState('secret', TENANT, T0)).not.toBe(signState('secret', TENANT, T0));
  });
});
