import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TENANT_STATUSES } from '../../../src/source/poller/tenant-status.ts';
import { createMetrics, enableProcessMetrics, forgetTenant, type Metrics } from '../../../src/telemetry/metrics.ts';
import { PROJECT_ROOT } from '../../support/promql.ts';

/** The budget docs/metrics.md promises: series ≤ 3 × tenants + FIXED_SERIES_BUDGET. */
const FIXED_SERIES_BUDGET = 1000;
const TENANTS = 10_000;

/** Every call site's label values, for one tenant, as a busy tenant produces them over a day. */
function exerciseTenant(metrics: Metrics, tenant: string, statusIndex: number): void {
  for (const outcome of ['published', 'filtered', 'rejected']) {
    for (const reason of ['', 'duplicate', 'folder-operation', 'other-workload', 'page-or-list-view', 'unknown-operation', 'unparsable-json']) {
      metrics.records.inc({ tenant, outcome, reason });
    }
  }
  for (const action of ['file-downloaded', 'file-uploaded', 'file-modified', 'file-deleted', 'file-renamed', 'file-moved', 'file-shared', 'file-restored']) {
    metrics.eventsPublished.inc({ tenant, action });
  }
  for (const outcome of ['delivered', 'rejected', 'retried']) metrics.blobs.inc({ tenant, outcome });
  metrics.blobBytes.inc({ tenant }, 1000);
  for (const reason of ['content-expired', 'foreign-host', 'unparsable-json']) metrics.deadLetters.inc({ tenant, reason });
  for (const reason of ['content-expired', 'window-expired', 'unparsable-content']) metrics.dataLoss.inc({ tenant, reason });
  for (const endpoint of ['subscriptions', 'content-list', 'content-blob']) {
    for (const status of ['2xx', '4xx', '5xx', 'error']) metrics.apiRequests.inc({ tenant, endpoint, status });
    metrics.apiRequestDuration.observe({ endpoint }, 0.2);
  }
  metrics.throttled.inc({ tenant });
  for (const kind of ['contentUri', 'nextPageUri']) metrics.foreignHostRefused.inc({ tenant, kind });
  metrics.checkpointCommits.inc({ tenant });
  metrics.cursorLag.set({ tenant }, 3600);
  metrics.tenantLastSuccess.set({ tenant }, 1_700_000_000);
  // The poller publishes its status as the whole state set, 1 for the current one.
  for (let step = 0; step <= statusIndex; step += 1) {
    const current = TENANT_STATUSES[step % TENANT_STATUSES.length];
    for (const status of TENANT_STATUSES) metrics.tenantStatus.set({ tenant, status }, status === current ? 1 : 0);
  }
}

function exerciseShared(metrics: Metrics): void {
  for (const outcome of ['acquired', 'rejected', 'unavailable']) metrics.tokenRequests.inc({ outcome });
  for (const result of ['ok', 'error']) {
    metrics.kafkaProduceDuration.observe({ result }, 0.01);
    metrics.kafkaCommitDuration.observe({ result }, 0.02);
  }
  metrics.kafkaTransactionAborts.inc();
  metrics.kafkaUp.set(1);
  metrics.shardsOwned.set(32);
  // One replica owning every shard of the default count (kafka.shards.count 32).
  for (let shard = 0; shard < 32; shard += 1) metrics.shardOwner.set({ shard: String(shard) }, 1);
  for (const kind of ['assigned', 'revoked', 'lost', 'restarted']) metrics.shardRebalances.inc({ kind });
  metrics.sinkWaitSeconds.observe(0.1);
  metrics.inflightBlobs.set(3);
  metrics.inflightBytes.set(1e6);
  metrics.spooledBlobs.inc();
  metrics.lateBlobs.inc({ lateness: 'over-overlap' });
}

async function seriesCount(registry: Registry): Promise<number> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
}

async function fleet(perTenantDetail: boolean, tenants: number): Promise<{ metrics: Metrics; series: number }> {
  const metrics = createMetrics(new Registry(), { perTenantDetail });
  enableProcessMetrics(metrics);
  for (let i = 0; i < tenants; i += 1) exerciseTenant(metrics, `tenant-${i}`, i % 4);
  exerciseShared(metrics);
  return { metrics, series: await seriesCount(metrics.registry) };
}

describe('metrics cardinality budget (docs/metrics.md)', () => {
  it(`stays under 3 × tenants + ${FIXED_SERIES_BUDGET} series with ${TENANTS} busy tenants`, async () => {
    const { metrics, series } = await fleet(false, TENANTS);
    expect(series).toBeLessThanOrEqual(3 * TENANTS + FIXED_SERIES_BUDGET);
    // Exactly three per-tenant series: lag, status (the current one only), last success.
    expect((await metrics.cursorLag.get()).values).toHaveLength(TENANTS);
    expect((await metrics.tenantLastSuccess.get()).values).toHaveLength(TENANTS);
    expect((await metrics.tenantStatus.get()).values).toHaveLength(TENANTS);
    expect((await metrics.records.get()).values.every((v) => v.labels['tenant' as never] === undefined)).toBe(true);
    // Aggregation keeps the totals: every tenant's record counted once per label set.
    const published = (await metrics.records.get()).values.find((v) => v.labels.outcome === 'published' && v.labels.reason === 'duplicate');
    expect(published?.value).toBe(TENANTS);
  }, 60_000);

  it('per-tenant detail (opt-in) is what would break the budget', async () => {
    const { series } = await fleet(true, 200);
    // About 60 series per tenant with detail on: 10,000 tenants would be ~600,000.
    expect(series).toBeGreaterThan(200 * 50);
  });
});

describe('tenant status gauge', () => {
  it('keeps one series per tenant, the current status, as the poller sets the whole state set', async () => {
    const metrics = createMetrics(new Registry());
    const set = (tenant: string, current: string): void => {
      for (const status of TENANT_STATUSES) metrics.tenantStatus.set({ tenant, status }, status === current ? 1 : 0);
    };
    set('a', 'starting');
    set('a', 'healthy');
    set('b', 'audit-disabled');
    set('a', 'throttled');
    const values = (await metrics.tenantStatus.get()).values.map((v) => ({ ...v.labels, value: v.value }));
    expect(values).toEqual([
      { tenant: 'b', status: 'audit-disabled', value: 1 },
      { tenant: 'a', status: 'throttled', value: 1 },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('onedrive_connector_tenant_status')).toContain('tenant="a",status="throttled"} 1');
  });

  it('forgets every series of a tenant no longer polled here', async () => {
    const metrics = createMetrics(new Registry());
    exerciseTenant(metrics, 'gone', 2);
    exerciseTenant(metrics, 'kept', 1);
    forgetTenant(metrics, 'gone');
    for (const gauge of [metrics.cursorLag, metrics.tenantLastSuccess, metrics.tenantStatus]) {
      expect((await gauge.get()).values.map((v) => v.labels.tenant)).toEqual(['kept']);
    }
  });
});

describe('cursor lag gauge', () => {
  it('keeps growing while the cursor stands still, and restarts from each new value', async () => {
    const metrics = createMetrics(new Registry());
    metrics.cursorLag.set({ tenant: 'stuck' }, 3600);
    metrics.cursorLag.set({ tenant: 'moving' }, 3600);
    await new Promise((resolve) => setTimeout(resolve, 120));
    metrics.cursorLag.set({ tenant: 'moving' }, 60);
    const lag = new Map((await metrics.cursorLag.get()).values.map((v) => [v.labels.tenant, v.value]));
    expect(lag.get('stuck')).toBeGreaterThanOrEqual(3600.1);
    expect(lag.get('stuck')).toBeLessThan(3660);
    expect(lag.get('moving')).toBeGreaterThanOrEqual(60);
    expect(lag.get('moving')).toBeLessThan(60.1);
  });
});

describe('build info', () => {
  it('exports the package version and the Node.js version', async () => {
    const metrics = createMetrics(new Registry());
    const { version } = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await metrics.registry.getSingleMetricAsString('onedrive_connector_build_info')).toContain(
      `onedrive_connector_build_info{version="${version}",node_version="${process.versions.node}"} 1`,
    );
  });
});
