import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { readAll } from '../../support/kafka.ts';
import { harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

const TOKEN = 'onboarding-admin-token';

/**
 * The customer journey end to end: tenants added through the admin API, a global admin opening the
 * consent URL (the simulator's adminconsent page redirects back as Entra does), verification, and
 * the statuses each outcome leads to — against the simulator and a real broker.
 */
describe('onboarding through admin consent', () => {
  const startHarness = harnessPerTest();
  let agent: Agent | undefined;
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
  });

  it('PendingConsent → Initializing → Monitoring on consent; denied, permission missing and audit off each get their reason; deauthorize stops the tenant', async () => {
    const clock = new ManualClock(Date.now());
    const harness = await startHarness({
      simulator: {
        seed: 'onboarding',
        clock,
        eventsPerHour: 30,
        firstContentDelayMinutes: 60,
        tenants: [{ scenario: 'no-consent' }, { scenario: 'consent-denied' }, { scenario: 'permission-missing' }, { scenario: 'audit-disabled' }],
      },
    });
    const sim = harness.sim;
    const browser = new Agent({ connect: { ca: sim.caPem } });
    agent = browser;
    const admin = await harness.startAdminConnector({ token: TOKEN, tenants: [] });
    const connector = admin.connector;
    const config = harness.config;
    const adminUrl = connector.adminUrl() ?? '';
    const api = async (method: string, path: string, body?: unknown) => (await admin.api(method, path, body)).body;
    const state = (id: string) => connector.connections()[id];
    /** What the admin's browser does: open the consent URL, follow Entra's redirect to our callback. */
    const consent = async (id: string) => {
      const { url } = (await api('GET', `/tenants/${id}/consent-url`)) as { url: string };
      const page = await request(url, { dispatcher: browser });
      await page.body.dump();
      expect(page.statusCode).toBe(302);
      const callback = String(page.headers['location']);
      expect(callback.startsWith(`${adminUrl}/consent/callback?`)).toBe(true);
      return (await (await fetch(callback)).json()) as Record<string, unknown>;
    };

    const [pending, refusing, noPermission, auditOff] = sim.tenants.map((t) => t.id) as [string, string, string, string];
    for (const id of [pending, refusing, noPermission, auditOff]) expect(await api('POST', '/tenants', { id, plan: 'E5' })).toMatchObject({ status: { state: 'PendingConsent' } });
    expect(sim.stats.count({ endpoint: 'token' })).toBe(0);

    expect(await consent(pending)).toEqual({ tenant: pending, outcome: 'granted', state: 'Initializing' });
    await waitFor(() => state(pending)?.reason === 'subscribed', { timeoutMs: 30_000, what: 'the subscription to start' });
    expect(state(pending)?.remedy).toMatch(/12 hours/);

    expect(await consent(refusing)).toMatchObject({ outcome: 'denied', state: 'Error' });
    expect(state(refusing)).toMatchObject({ reason: 'consent-denied', code: 'access_denied' });

    await consent(noPermission);
    await waitFor(() => state(noPermission)?.reason === 'permission-missing', { timeoutMs: 30_000, what: 'the missing permission' });
    expect(state(noPermission)?.remedy).toMatch(/ActivityFeed\.Read/);

    await consent(auditOff);
    await waitFor(() => state(auditOff)?.reason === 'audit-disabled', { timeoutMs: 30_000, what: 'audit log search off' });
    expect(state(auditOff)?.remedy).toMatch(/Purview/);
    sim.setAuditEnabled(auditOff, true);
    await waitFor(() => state(auditOff)?.state === 'Initializing', { timeoutMs: 30_000, what: 'audit on to be noticed' });

    // Microsoft lists a new subscription's first content late; until then the tenant stays Initializing.
    expect(state(pending)?.state).toBe('Initializing');
    clock.advance(61 * 60_000);
    await waitFor(() => state(pending)?.state === 'Monitoring' && state(auditOff)?.state === 'Monitoring', { timeoutMs: 60_000, what: 'the first content' });

    const shown = (await api('GET', `/tenants/${pending}`)) as { history: Array<{ from: string; to: string; reason: string }> };
    expect(shown.history.map((h) => `${h.from}>${h.to}:${h.reason}`)).toEqual(['PendingConsent>Initializing:consent-granted', 'Initializing>Initializing:subscribed', 'Initializing>Monitoring:first-content']);

    expect(await api('POST', `/tenants/${pending}/deauthorize`)).toMatchObject({ desiredState: 'deauthorized', status: { state: 'Deauthorized' } });
    expect(sim.stats.count({ endpoint: 'subscriptions-stop', tenantId: pending })).toBe(1);

    const events = await readAll(config.kafka.topics.connectionStatus, { isolation: 'read_committed', deadlineMs: 30_000 });
    const forPending = events.filter((m) => m.key === pending).map((m) => (JSON.parse(m.value ?? '{}') as { to: string }).to);
    expect(forPending).toEqual(['Initializing', 'Initializing', 'Monitoring', 'Deauthorized']);
  }, 240_000);
});
