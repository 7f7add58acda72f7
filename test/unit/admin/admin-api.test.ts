import { afterEach, describe, expect, it } from 'vitest';
import { tokenMatches } from '../../../src/admin/server.ts';
import { signState } from '../../../src/lifecycle/consent.ts';
import { ADMIN_TOKEN, STATE_SECRET, startAdminWorld } from '../../support/admin.ts';

const A = '11111111-1111-4111-8111-111111111111';
let world: Awaited<ReturnType<typeof startAdminWorld>> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('admin API', () => {
  it('answers 401 without a token or with a wrong one, and compares tokens whatever their length', async () => {
    world = await startAdminWorld();
    expect((await world.call('GET', '/tenants', undefined, null)).status).toBe(401);
    expect((await world.call('GET', '/tenants', undefined, 'wrong')).status).toBe(401);
    expect((await world.call('GET', '/tenants', undefined, `${ADMIN_TOKEN}x`)).status).toBe(401);
    expect((await world.call('GET', '/tenants')).status).toBe(200);
    expect(tokenMatches('abc', 'Bearer abc')).toBe(true);
    expect(tokenMatches('abc', 'Bearer ')).toBe(false);
    expect(tokenMatches('', 'Bearer ')).toBe(false);
    expect(tokenMatches('abc', 'Basic abc')).toBe(false);
  });

  it('lists every problem of a bad body with 400, and 404/409 where they belong', async () => {
    world = await startAdminWorld();
    const bad = await world.call('POST', '/tenants', { id: 'nope', cloud: 'mars', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.problems?.map((p) => p.path).sort()).toEqual(['', 'cloud', 'id']);
    expect((await world.call('POST', '/tenants', '{not json')).status).toBe(400);
    expect((await world.call('GET', `/tenants/${A}`)).status).toBe(404);
    expect((await world.call('POST', `/tenants/${A}/pause`)).status).toBe(404);
    expect((await world.call('POST', '/tenants', { id: A, displayName: 'Contoso' })).status).toBe(201);
    expect((await world.call('POST', '/tenants', { id: A.toUpperCase() })).status).toBe(409);
    await world.call('POST', `/tenants/${A}/deauthorize`);
    expect((await world.call('POST', `/tenants/${A}/pause`)).body.error?.code).toBe('TENANT_DEAUTHORIZED');
    const window = await world.call('POST', `/tenants/${A}/maintenance`, { from: '2026-12-05T06:00:00Z', to: '2026-12-05T00:00:00Z' });
    expect(window.status).toBe(409);
  });

  it('adds, shows with history, pauses, resumes and deauthorizes; consent through the signed callback', async () => {
    world = await startAdminWorld({ loginBaseUrl: 'https://127.0.0.1:1' });
    const added = await world.call('POST', '/tenants', { id: A, displayName: 'Contoso', plan: 'Business' });
    expect(added.body).toMatchObject({ id: A, desiredState: 'active', status: { state: 'PendingConsent' } });
    const consent = await world.call('GET', `/tenants/${A}/consent-url`);
    const url = new URL(String(consent.body['url']));
    expect(url.pathname).toBe(`/${A}/v2.0/adminconsent`);
    const state = url.searchParams.get('state') ?? '';
    const foreign = await world.call('GET', `/consent/callback?admin_consent=True&tenant=22222222-2222-4222-8222-222222222222&state=${encodeURIComponent(state)}`, undefined, null);
    expect(foreign.body.error?.code).toBe('CONSENT_TENANT_MISMATCH');
    const forged = await world.call('GET', `/consent/callback?admin_consent=True&tenant=${A}&state=${encodeURIComponent(signState('guess', A, Date.now() + 1e9))}`, undefined, null);
    expect(forged.status).toBe(400);
    const granted = await world.call('GET', `/consent/callback?admin_consent=True&tenant=${A}&state=${encodeURIComponent(state)}`, undefined, null);
    expect(granted.body).toEqual({ tenant: A, outcome: 'granted', state: 'Initializing' });
    expect(world.supervisor.isRunning(A)).toBe(true);
    expect((await world.call('POST', `/tenants/${A}/pause`)).body).toMatchObject({ desiredState: 'paused', status: { state: 'Paused' } });
    expect(world.supervisor.isRunning(A)).toBe(false);
    expect((await world.call('POST', `/tenants/${A}/resume`)).body).toMatchObject({ status: { state: 'Initializing' } });
    expect((await world.call('POST', `/tenants/${A}/deauthorize`)).body).toMatchObject({ status: { state: 'Deauthorized' } });
    const shown = await world.call('GET', `/tenants/${A}`);
    expect((shown.body['history'] as Array<{ to: string }>).map((h) => h.to)).toEqual(['Initializing', 'Paused', 'Initializing', 'Deauthorized']);
    expect(world.events.map((e) => e.to)).toEqual(['Initializing', 'Paused', 'Initializing', 'Deauthorized']);
    const list = await world.call('GET', '/tenants');
    expect(list.body['tenants']).toEqual([expect.objectContaining({ id: A, displayName: 'Contoso' })]);
    expect(JSON.stringify(list.body)).not.toContain('history');
  });

  it('records a refused consent as Error(consent-denied) with its remedy', async () => {
    world = await startAdminWorld();
    await world.call('POST', '/tenants', { id: A });
    const state = signState(STATE_SECRET, A, world.clock.now() + 60_000);
    const denied = await world.call('GET', `/consent/callback?error=access_denied&error_description=${encodeURIComponent('AADSTS65004: User declined to consent')}&state=${encodeURIComponent(state)}`, undefined, null);
    expect(denied.body).toEqual({ tenant: A, outcome: 'denied', state: 'Error' });
    expect(world.registry.get(A)?.status).toMatchObject({ reason: 'consent-denied', code: 'access_denied' });
    world.clock.advance(120_000);
    expect((await world.call('GET', `/consent/callback?admin_consent=True&tenant=${A}&state=${encodeURIComponent(state)}`, undefined, null)).body.error?.code).toBe('CONSENT_STATE_INVALID');
  });

  it('imports a legacy connection once: Maintenance in its window, a second import changes nothing, a collected tenant is a conflict', async () => {
    world = await startAdminWorld();
    const body = { tenant: A, displayName: 'Legacy Contoso', lastCollectedTime: '2026-11-30T12:00:00Z', lastContentIds: ['c1', 'c2'] };
    const first = await world.call('POST', '/tenants/import', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ imported: true, tenant: { origin: 'legacy-import', status: { state: 'Maintenance' }, legacy: { lastContentIds: ['c1', 'c2'] } } });
    const second = await world.call('POST', '/tenants/import', { ...body, lastContentIds: [] });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ imported: false, tenant: { legacy: { lastContentIds: ['c1', 'c2'] } } });
    world.cursors.set('33333333-3333-4333-8333-333333333333', { lowerBound: '2026-11-30T00:00:00Z', done: {}, updatedAt: '2026-11-30T00:00:00Z' });
    expect((await world.call('POST', '/tenants/import', { ...body, tenant: '33333333-3333-4333-8333-333333333333' })).status).toBe(409);
    const missing = await world.call('POST', '/tenants/import', { tenant: A });
    expect(missing.body.error?.problems?.map((p) => p.path).sort()).toEqual(['displayName', 'lastCollectedTime', 'lastContentIds']);
  });

  it('serves an OpenAPI 3.1 document without a token', async () => {
    world = await startAdminWorld();
    const doc = await world.call('GET', '/openapi.json', undefined, null);
    expect(doc.body['openapi']).toBe('3.1.0');
    expect(Object.keys(doc.body['paths'] as object)).toContain('/tenants/{tenantId}/consent-url');
  });
});
