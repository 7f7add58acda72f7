import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ManualClock } from '../../src/simulator/index.ts';
import { harnessPerTest } from '../support/pipeline-harness.ts';
import { prometheusBinDir, RULES_FILE } from '../support/promql.ts';
import { waitFor } from '../support/time.ts';

/**
 * A real Prometheus (Debian's package, scripts/tools/prometheus.sh) scrapes a connector collecting
 * from the simulator: the target is up, the shipped rules load, and a tenant held back (audit log
 * search off, so its cursor cannot move) fires the lag alert while the healthy tenant does not.
 * The rules are the shipped file with every `for:` cut to 0s — the expressions are untouched.
 */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface PromResponse<T> {
  status: string;
  data: T;
}

describe('a real Prometheus scraping the connector', () => {
  const startHarness = harnessPerTest();
  let prometheus: ChildProcess | undefined;
  let dir: string | undefined;
  let prometheusLog = '';
  afterEach(async () => {
    if (prometheus?.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    prometheus = dir = undefined;
  });

  it('sees the target up, loads the rules and fires the lag alert for the tenant held back', async () => {
    const bin = prometheusBinDir();
    const harness = await startHarness({
      simulator: { seed: 'prometheus', clock: new ManualClock(Date.now()), eventsPerHour: 20, tenants: [{ scenario: 'healthy' }, { scenario: 'audit-disabled' }] },
      // 12 h back: the held-back tenant's lag stays above the 6 h threshold; the healthy one catches up below it.
      connector: { firstRunLookbackHours: 12 },
    });
    const [healthy, heldBack] = harness.sim.tenants.map((t) => t.id);
    const connector = await harness.startConnector();
    const target = new URL(connector.metricsUrl() ?? '').host;

    dir = await mkdtemp(join(tmpdir(), 'prometheus-it-'));
    const rules = parse(await readFile(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ for?: string }> }> };
    for (const rule of rules.groups.flatMap((g) => g.rules)) if (rule.for !== undefined) rule.for = '0s';
    await writeFile(join(dir, 'rules.yaml'), stringify(rules));
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yaml')],
        scrape_configs: [{ job_name: 'onedrive-connector', static_configs: [{ targets: [target] }] }],
      }),
    );
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      join(bin, 'prometheus'),
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
    const get = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${api}${path}`);
      const body = (await response.json()) as PromResponse<T>;
      if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
      return body.data;
    };
    await waitFor(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.ok === true, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `Prometheus to be ready (log: ${prometheusLog})`,
    });

    // The target is up.
    await waitFor(
      async () => {
        const { activeTargets } = await get<{ activeTargets: Array<{ health: string; labels: Record<string, string> }> }>('/api/v1/targets');
        return activeTargets.some((t) => t.labels['job'] === 'onedrive-connector' && t.health === 'up');
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the connector target to be up' },
    );
    const up = await get<{ result: Array<{ value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent('up{job="onedrive-connector"}')}`);
    expect(up.result.map((r) => r.value[1])).toEqual(['1']);

    // The shipped rules load and evaluate without errors.
    await waitFor(
      async () => {
        const { groups } = await get<{ groups: Array<{ rules: Array<{ health: string }> }> }>('/api/v1/rules');
        return groups.flatMap((g) => g.rules).length === rules.groups.flatMap((g) => g.rules).length && groups.every((g) => g.rules.every((r) => r.health === 'ok'));
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every rule to be loaded and evaluated healthy' },
    );

    // The healthy tenant catches up; the held-back one fires the lag alert (and only it).
    await harness.waitCaughtUp(connector, 120_000);
    type Alert = { labels: Record<string, string>; state: string };
    let alerts: Alert[] = [];
    await waitFor(
      async () => {
        alerts = (await get<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
        return alerts.some((a) => a.labels['alertname'] === 'OneDriveConnectorLagHigh' && a.labels['tenant'] === heldBack && a.state === 'firing');
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'OneDriveConnectorLagHigh to fire for the held-back tenant' },
    );
    const lagAlerts = alerts.filter((a) => a.labels['alertname'] === 'OneDriveConnectorLagHigh');
    expect(lagAlerts.map((a) => a.labels['tenant'])).toEqual([heldBack]);
    expect(lagAlerts[0]?.labels['severity']).toBe('warning');
    // The same scrape says the healthy tenant is below the threshold and the held-back one is not in Monitoring.
    const lag = await get<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
      `/api/v1/query?query=${encodeURIComponent('onedrive_connector_cursor_lag_seconds')}`,
    );
    const lagOf = (tenant: string | undefined): number => Number(lag.result.find((r) => r.metric['tenant'] === tenant)?.value[1]);
    expect(lagOf(healthy)).toBeLessThan(6 * 3600);
    expect(lagOf(heldBack)).toBeGreaterThan(6 * 3600);
    expect(alerts.some((a) => a.labels['alertname'] === 'OneDriveConnectorTenantError' && a.labels['tenant'] === heldBack)).toBe(true);
    expect(alerts.filter((a) => a.labels['tenant'] === healthy)).toEqual([]);
  });
});
