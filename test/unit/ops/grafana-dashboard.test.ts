import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DASHBOARD_FILE, exportedSeriesNames, parsePromql, problemsOf, prometheusBinDir, type ExportedMetric } from '../../support/promql.ts';

const run = promisify(execFile);

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

/** Grafana's variables replaced by values Prometheus accepts; `$job` and `$tenant` sit inside strings. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$__range', '6h').replaceAll('$topn', '10');
}

function expressions(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const visit = (panel: Panel): void => {
    for (const target of panel.targets ?? []) found.push({ where: `panel "${panel.title}"`, expr: substitute(target.expr) });
    for (const child of panel.panels ?? []) visit(child);
  };
  dashboard.panels.forEach(visit);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    const inner = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
    found.push({ where: `variable $${variable.name}`, expr: inner ?? `not label_values(): ${query}` });
  }
  return found;
}

describe('Grafana dashboard (helm/onedrive-connector/files/grafana-dashboard.json)', () => {
  let dashboard: Dashboard;
  let exported: Map<string, ExportedMetric>;

  beforeAll(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as Dashboard;
    exported = await exportedSeriesNames();
  });

  it('names in every expression only metrics and labels the connector exports', () => {
    const all = expressions(dashboard);
    expect(all.length).toBeGreaterThan(30);
    const problems = all.flatMap(({ where, expr }) => problemsOf(expr, exported).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('has expressions Prometheus itself parses (promtool check rules on them as recording rules)', async () => {
    const bin = prometheusBinDir();
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-promql-'));
    try {
      const rules = expressions(dashboard).map(({ expr }, i) => ({ record: `dashboard:expr_${i}`, expr }));
      const file = join(dir, 'dashboard-rules.yaml');
      await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const { stdout } = await run(join(bin, 'promtool'), ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('shows throughput, lag per tenant (top N), errors, throttling, a tenant status table and Kafka latency', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    const using = (metric: string): Panel[] => panels.filter((p) => (p.targets ?? []).some((t) => parsePromql(substitute(t.expr)).selectors.some((s) => s.metric === metric)));
    expect(using('onedrive_connector_events_published_total').length).toBeGreaterThan(0);
    expect(using('onedrive_connector_cursor_lag_seconds').some((p) => p.targets?.some((t) => t.expr.startsWith('topk($topn,')))).toBe(true);
    expect(using('onedrive_connector_dead_letters_total').length).toBeGreaterThan(0);
    expect(using('onedrive_connector_throttled_total').length).toBeGreaterThan(0);
    expect(using('onedrive_connector_tenant_status').some((p) => p.type === 'table')).toBe(true);
    expect(using('onedrive_connector_kafka_produce_duration_seconds_bucket').length).toBeGreaterThan(0);
    expect(using('onedrive_connector_kafka_commit_duration_seconds_bucket').length).toBeGreaterThan(0);
    expect(new Set(panels.map((p) => (p as { id?: number }).id)).size).toBe(panels.length);
  });
});

describe('the expression check itself', () => {
  it('flags unknown metrics, syntax errors and the tenant label on aggregated counters', async () => {
    const exported = await exportedSeriesNames();
    expect(problemsOf('rate(onedrive_connector_no_such_total[5m])', exported)).toEqual(['onedrive_connector_no_such_total is not exported by the connector']);
    expect(problemsOf('sum(rate(onedrive_connector_records_total{tenant="x"}[5m]))', exported)).toEqual(['onedrive_connector_records_total has no label tenant']);
    expect(problemsOf('sum by (tenant) (rate(onedrive_connector_records_total[5m]))', exported)[0]).toMatch(/no label tenant/);
    expect(problemsOf('sum(rate(onedrive_connector_records_total[5m]', exported).length).toBeGreaterThan(0);
    expect(problemsOf('max by (tenant) (onedrive_connector_cursor_lag_seconds{job="x"})', exported)).toEqual([]);
    // With per-tenant detail the counters keep their tenant label.
    expect(problemsOf('sum by (tenant) (rate(onedrive_connector_records_total[5m]))', await exportedSeriesNames({ perTenantDetail: true }))).toEqual([]);
  });
});
