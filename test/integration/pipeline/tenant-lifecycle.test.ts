import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/simulator/index.ts';
import { expectWithinReach, harnessPerTest } from '../../support/pipeline-harness.ts';
import { waitFor } from '../../support/time.ts';

/**
 * The connection lifecycle tenant admins live through (DESIGN "Who uses it"): each broken tenant gets
 * a status that says what to do, and none of them holds up a healthy tenant (invariant 5).
 */

describe('tenant lifecycle against the simulator', () => {
  const startHarness = harnessPerTest();

  it('reports consent missing, permission missing and audit off with actions, while a healthy tenant completes', async () => {
    const harness = await startHarness({
      simulator: {
        seed: 'lifecycle',
        clock: new ManualClock(Date.now()),
        eventsPerHour: 20,
        tenants: [{ scenario: 'healthy' }, { scenario: 'no-consent' }, { scenario: 'permission-missing' }, { scenario: 'audit-disabled' }],
      },
    });
    const connector = await harness.startConnector();
    const [healthy, noConsent, noPermission, auditOff] = harness.sim.tenants.map((t) => t.id);
    await waitFor(
      () => {
        const s = connector.statuses();
        return s[noConsent!]?.status === 'consent-missing' && s[noPermission!]?.status === 'permission-missing' && s[auditOff!]?.status === 'audit-disabled';
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the three broken tenants to show their status' },
    );
    await harness.waitCaughtUp(connector, 120_000);
    const statuses = connector.statuses();
    expect(statuses[healthy!]?.status).toBe('healthy');
    expect(statuses[noConsent!]?.action).toMatch(/admin consent/);
    expect(statuses[noPermission!]?.action).toMatch(/ActivityFeed\.Read/);
    expect(statuses[auditOff!]?.action).toMatch(/audit log search/);
    const metrics = await connector.metrics.registry.getSingleMetricAsString('onedrive_connector_tenant_status');
    expect(metrics).toContain(`tenant="${auditOff!}",status="audit-disabled"} 1`);
    await connector.stop();

    const events = await harness.readEvents();
    expectWithinReach(new Set(events.map((e) => e.id)), await harness.expectedEventIds(healthy!));
    expect(events.every((e) => e.tenant === healthy)).toBe(true);
  });

  it('authenticates with a certificate instead of a secret', async () => {
    const harness = await startHarness({ simulator: { seed: 'certificate', clock: new ManualClock(Date.now()), eventsPerHour: 20, tenants: 1 } });
    const cert = harness.sim.clientCertificate;
    const certFile = join(tmpdir(), `sim-client-cert-${process.pid}.pem`);
    await writeFile(certFile, cert.certPem);
    const connector = await harness.startConnectorWith({
      auth: { clientId: harness.sim.clientId, certificate: { privateKey: { env: 'SIM_CLIENT_KEY' }, certificateFile: certFile } },
      env: { SIM_CLIENT_KEY: cert.keyPem ?? '' },
    });
    await harness.waitCaughtUp(connector, 120_000);
    await connector.stop();
    const tenant = harness.sim.tenants[0]!.id;
    expectWithinReach(new Set((await harness.readEvents()).map((e) => e.id)), await harness.expectedEventIds(tenant));
    expect(harness.sim.stats.count({ endpoint: 'token', status: 200 })).toBeGreaterThan(0);
  });
});
