import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry, type Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { PROJECT_ROOT } from '../../support/promql.ts';

interface Row {
  type: string;
  labels: string[];
  perTenant: string;
}

/** The tables of docs/metrics.md: one row per metric, `| \`name\` | type | \`labels\` | per tenant | meaning |`. */
function documented(markdown: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`(onedrive_connector_\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined) continue;
    if (rows.has(name)) throw new Error(`${name} is documented twice`);
    rows.set(name, { type: cells[2] ?? '', labels: [...(cells[3] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] ?? ''), perTenant: cells[4] ?? '' });
  }
  return rows;
}

async function declared(perTenantDetail: boolean): Promise<Map<string, { type: string; labels: string[] }>> {
  const metrics = createMetrics(new Registry(), { perTenantDetail });
  const found = new Map<string, { type: string; labels: string[] }>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = await (metric as unknown as Metric).get();
    found.set(name, { type: String(type), labels: [...((metric as unknown as { labelNames?: string[] }).labelNames ?? [])] });
  }
  return found;
}

describe('docs/metrics.md', () => {
  it('lists every metric the connector declares, with its type, labels and whether it is per tenant', async () => {
    const docs = documented(await readFile(join(PROJECT_ROOT, 'docs/metrics.md'), 'utf8'));
    const withDetail = await declared(true);
    const aggregated = await declared(false);
    expect([...docs.keys()].sort()).toEqual([...withDetail.keys()].sort());
    for (const [name, code] of withDetail) {
      const row = docs.get(name);
      const tenantByDefault = aggregated.get(name)?.labels.includes('tenant') === true;
      const perTenant = tenantByDefault ? 'always' : code.labels.includes('tenant') ? 'opt-in' : 'no';
      expect({ name, type: row?.type, labels: row?.labels, perTenant: row?.perTenant }).toEqual({ name, type: code.type, labels: code.labels, perTenant });
    }
  });

  it('states the budget the cardinality test checks', async () => {
    const text = await readFile(join(PROJECT_ROOT, 'docs/metrics.md'), 'utf8');
    const test = await readFile(join(PROJECT_ROOT, 'test/unit/telemetry/metrics.test.ts'), 'utf8');
    const fixed = /const FIXED_SERIES_BUDGET = (\d+);/.exec(test)?.[1];
    expect(fixed).toBeDefined();
    expect(text).toContain(`at most \`3 × N + ${Number(fixed).toLocaleString('en-US')}\` series`);
  });
});
