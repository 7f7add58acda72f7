import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { startTestSim, type TestSim } from './helpers.ts';

const START = 'subscriptions/start?contentType=Audit.SharePoint&PublisherIdentifier=pub';
const CONTENT = 'subscriptions/content?contentType=Audit.SharePoint&PublisherIdentifier=pub';
let t: TestSim | undefined;
afterEach(async () => t?.close());

describe('subscriptions (o365-api.md §1.3, §1.5, §1.6, §2.2)', () => {
  it('AF20022 before any start [DOC REF §2.2]; start enables [DOC REF §1.3]; list shows it [§1.6]', async () => {
    t = await startTestSim({ clock: new ManualClock() });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    const before = await t.feed(tenant, CONTENT, token);
    expect(before.status).toBe(400);
    expect(before.json().error.code).toBe('AF20022');
    const start = await t.feed(tenant, START, token, 'POST');
    expect(start.status).toBe(200);
    expect(start.json()).toEqual({ contentType: 'Audit.SharePoint', status: 'enabled', webhook: null });
    expect(start.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((await t.feed(tenant, 'subscriptions/list?PublisherIdentifier=pub', token)).json()).toEqual([{ contentType: 'Audit.SharePoint', status: 'enabled', webhook: null }]);
    expect((await t.feed(tenant, CONTENT, token)).status).toBe(200);
  });

  it('a second start within 15 min answers HTTP 429 "retry again after 14m 56s" [OBS §1.3, integrations#15476]; later AF20024 (400) [OBS §1.3]', async () => {
    const clock = new ManualClock();
    t = await startTestSim({ clock });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    expect((await t.feed(tenant, START, token, 'POST')).status).toBe(200);
    clock.advance(4_000);
    const tooSoon = await t.feed(tenant, START, token, 'POST');
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.json().error.message).toBe('Too many frequent subscription start requests. Please retry again after 14m 56s');
    clock.advance(15 * 60_000);
    const token2 = await t.token(tenant);
    const again = await t.feed(tenant, START, token2, 'POST');
    expect(again.status).toBe(400);
    expect(again.json()).toEqual({ error: { code: 'AF20024', message: 'The subscription is already enabled. No property change.' } });
  });

  it('stop (200, empty body) then content → AF20022; content made available while stopped is never listed [DOC REF §1.5]', async () => {
    const clock = new ManualClock();
    t = await startTestSim({ clock, startCooldownMinutes: 0, tenants: [{ subscribed: ['Audit.SharePoint'], eventsPerHour: 120 }] });
    const tenant = t.sim.tenants[0]!.id;
    let token = await t.token(tenant);
    const stop = await t.feed(tenant, 'subscriptions/stop?contentType=Audit.SharePoint&PublisherIdentifier=pub', token, 'POST');
    expect(stop.status).toBe(200);
    expect(stop.text).toBe('');
    expect((await t.feed(tenant, CONTENT, token)).json().error.code).toBe('AF20022');
    clock.advance(3 * 3_600_000);
    token = await t.token(tenant);
    expect((await t.feed(tenant, START, token, 'POST')).status).toBe(200);
    const listed = (await t.feed(tenant, CONTENT, token)).json() as { contentCreated: string }[];
    const stoppedFrom = clock.now() - 3 * 3_600_000;
    const truth = await t.sim.expectedRecords(tenant, { sinceContentCreated: stoppedFrom + 1 });
    expect(truth.blobs.every((b) => Date.parse(b.availableAt) < stoppedFrom || Date.parse(b.availableAt) >= clock.now())).toBe(true);
    expect(listed.every((b) => Date.parse(b.contentCreated) < stoppedFrom)).toBe(true);
  });

  it('AF20023 (400) after an admin disables the subscription [OBS §2.2 wazuh#29674]; start re-enables [DOC REF §1.3]', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: [{ subscribed: ['Audit.SharePoint'] }] });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    t.sim.faults.set(tenant, { subscriptionDisabled: true });
    const res = await t.feed(tenant, CONTENT, token);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'AF20023', message: 'The subscription was disabled.' } });
    expect((await t.feed(tenant, 'subscriptions/list', token)).json()[0].status).toBe('disabled');
    expect((await t.feed(tenant, START, token, 'POST')).status).toBe(200);
    expect((await t.feed(tenant, CONTENT, token)).status).toBe(200);
  });

  it('rejects an unknown content type (AF20020) and a webhook address without https (AF20021) [DOC REF §1.3, §1.4]', async () => {
    t = await startTestSim({ clock: new ManualClock() });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    expect((await t.feed(tenant, 'subscriptions/start?contentType=Audit.Nope', token, 'POST')).json().error.code).toBe('AF20020');
    const res = await t.call('POST', `${t.sim.feedUrl(tenant)}/${START}`, { token, body: JSON.stringify({ webhook: { address: 'http://x.example' } }) });
    expect(res.json().error.code).toBe('AF20021');
  });
});

describe('authorization (o365-api.md §1.2, §2.2, §2.3)', () => {
  it('AF10001 with HTTP 401 for a token without ActivityFeed.Read [OBS §2.2 coe-starter-kit#3192]', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: [{ scenario: 'permission-missing' }] });
    const tenant = t.sim.tenants[0]!.id;
    const res = await t.feed(tenant, START, await t.token(tenant), 'POST');
    expect(res.status).toBe(401);
    expect(res.json().error.code).toBe('AF10001');
  });

  it('AF20010 when the token tenant differs from the URL tenant [DOC REF §1.2]; 401 without a token', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: 2 });
    const [a, b] = t.sim.tenants;
    const res = await t.feed(b!.id, START, await t.token(a!.id), 'POST');
    expect(res.json().error.code).toBe('AF20010');
    expect((await t.call('POST', `${t.sim.feedUrl(a!.id)}/${START}`)).status).toBe(401);
  });

  it('an expired token (simulator clock) is refused with 401', async () => {
    const clock = new ManualClock();
    t = await startTestSim({ clock, tokenLifetimeSeconds: 60 });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    clock.advance(61_000);
    expect((await t.feed(tenant, START, token, 'POST')).status).toBe(401);
  });

  it('audit-disabled: HTTP 400 with "Tenant <id> does not exist" split oddly between code and message [DOC TRB + OBS §2.3]', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: [{ scenario: 'audit-disabled' }] });
    const tenant = t.sim.tenants[0]!.id;
    const res = await t.feed(tenant, START, await t.token(tenant), 'POST');
    expect(res.status).toBe(400);
    const { code, message } = res.json().error;
    expect(code).toMatch(/^StartSubscription \[CorrId=[0-9a-f-]+\]\[TenantId=.*,ContentType=Audit\.SharePoint,ApplicationId=.*,PublisherId=pub\]\[AppId$/);
    expect(message).toContain(`Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${tenant} does not exist.`);
    expect(message).toContain('\r\n   at Microsoft.Office.Compliance.Audit.API.AzureManager');
  });

  it('an unknown tenant in the URL gets the same 400 [DOC TRB §2.3]; audit logging can be turned off mid-run', async () => {
    t = await startTestSim({ clock: new ManualClock(), tenants: [{ subscribed: ['Audit.SharePoint'] }] });
    const tenant = t.sim.tenants[0]!.id;
    const token = await t.token(tenant);
    const unknown = randomUUID();
    const res = await t.feed(unknown, CONTENT, token);
    expect(res.status).toBe(400);
    expect(res.text).toContain(`Tenant ${unknown} does not exist.`);
    expect((await t.feed(tenant, CONTENT, token)).status).toBe(200);
    t.sim.faults.set(tenant, { auditDisabled: true });
    const off = await t.feed(tenant, CONTENT, token);
    expect(off.status).toBe(400);
    expect(off.text).toContain(`Tenant ${tenant} does not exist.`);
  });
});
