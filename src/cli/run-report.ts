import type { Kafka } from 'kafkajs';
import { readToEnd } from '../kafka/read-to-end.ts';
import type { EmbeddedProgress, EmbeddedRunResult } from './embedded-pipeline.ts';
import type { SimulatorHandle } from '../simulator/thread.ts';

/** What actually arrived in Kafka: counts per tenant and action, plus one event to look at. */
export interface TopicCensus {
  total: number;
  byTenant: Map<string, Map<string, number>>;
  sample: unknown;
  deadLetters: Map<string, number>;
}

/** Extra per-message readers (`replay` keeps every event id) and the counts to wait for (see readToEnd). */
export interface CensusHooks {
  onEvent?: (tenant: string, event: Record<string, unknown>) => void;
  onDeadLetter?: (tenant: string, letter: Record<string, unknown>) => void;
  expected?: { events: number; deadLetters: number };
}

export async function censusOfTopics(kafka: Kafka, topics: { events: string; deadLetter: string }, hooks: CensusHooks = {}): Promise<TopicCensus> {
  const census: TopicCensus = { total: 0, byTenant: new Map(), sample: undefined, deadLetters: new Map() };
  await readToEnd(kafka, {
    topic: topics.events,
    deadlineMs: 120_000,
    ...(hooks.expected === undefined ? {} : { expectedCount: hooks.expected.events }),
    groupIdPrefix: 'onedrive-connector-census',
    onMessage: (message) => {
      const event = JSON.parse(message.value?.toString() ?? '{}') as { event?: { action?: string }; o365?: { driveType?: string } };
      const tenant = message.headers?.['tenant-id']?.toString() ?? 'unknown';
      hooks.onEvent?.(tenant, event);
      const actions = census.byTenant.get(tenant) ?? new Map<string, number>();
      const action = event.event?.action ?? 'unknown';
      actions.set(action, (actions.get(action) ?? 0) + 1);
      census.byTenant.set(tenant, actions);
      census.total += 1;
      // A personal-drive download is the event analysts ask about first.
      if (census.sample === undefined && action === 'file-downloaded' && event.o365?.driveType === 'personal') census.sample = event;
    },
  });
  await readToEnd(kafka, {
    topic: topics.deadLetter,
    deadlineMs: 60_000,
    ...(hooks.expected === undefined ? {} : { expectedCount: hooks.expected.deadLetters }),
    groupIdPrefix: 'onedrive-connector-census',
    onMessage: (message) => {
      const reason = message.headers?.['reason']?.toString() ?? 'unknown';
      if (hooks.onDeadLetter !== undefined) hooks.onDeadLetter(message.headers?.['tenant-id']?.toString() ?? 'unknown', JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>);
      census.deadLetters.set(reason, (census.deadLetters.get(reason) ?? 0) + 1);
    },
  });
  return census;
}

/** Progress on a terminal: one line rewritten in place; elsewhere (CI logs) a line every 5 s. */
export function progressPrinter(tty: boolean | undefined): (progress: EmbeddedProgress) => void {
  let lastPrint = 0;
  return (progress) => {
    if (tty === true) process.stdout.write(`\r${progressLine(progress)}\x1b[K`);
    else if (progress.elapsedMs - lastPrint >= 5000) {
      lastPrint = progress.elapsedMs;
      process.stdout.write(`${progressLine(progress)}\n`);
    }
  };
}

export function progressLine(progress: EmbeddedProgress): string {
  const parts = progress.tenants.map((t) => `${t.id.slice(0, 8)} ${t.status.status}${t.caughtUp ? ' ✓' : ''} ${t.published}`);
  return `[${(progress.elapsedMs / 1000).toFixed(0).padStart(3)}s] events published: ${parts.join(' | ')}`;
}

export function formatReport(result: EmbeddedRunResult<SimulatorHandle>, census: TopicCensus): string {
  const lines: string[] = [];
  const { config, simulator } = result;
  lines.push('', `Pipeline ${result.caughtUp ? 'caught up with the simulated tenants' : 'did NOT catch up before the timeout'} in ${(result.elapsedMs / 1000).toFixed(1)} s; stopped ${result.drained ? 'cleanly' : 'at the shutdown deadline'}.`);
  lines.push(`Delivery mode: ${config.connector.deliveryMode}. Kafka: ${config.kafka.brokers.join(',')}`);
  lines.push(`Events topic: ${config.kafka.topics.events} (${census.total} events, read back read_committed)`);
  lines.push(`Dead-letter topic: ${config.kafka.topics.deadLetter} (${[...census.deadLetters].map(([r, n]) => `${r}: ${n}`).join(', ') || 'empty'})`);
  lines.push(`Cursors topic: ${config.kafka.topics.cursors}`);
  lines.push(`Metrics were served at ${result.metricsUrl ?? '(disabled)'}/metrics and tenant status at /status while it ran.`, '');
  for (const tenant of simulator.tenants) {
    const status = result.statuses[tenant.id];
    const actions = census.byTenant.get(tenant.id);
    const total = actions === undefined ? 0 : [...actions.values()].reduce((a, b) => a + b, 0);
    lines.push(`Tenant ${tenant.name} (${tenant.id}, plan ${tenant.plan}, scenario ${tenant.scenario}): status ${status?.status ?? 'unknown'}, ${total} events`);
    if (actions !== undefined) {
      lines.push(`  ${[...actions].sort((a, b) => b[1] - a[1]).map(([action, n]) => `${action} ${n}`).join(', ')}`);
    }
    if (status?.action) lines.push(`  action: ${status.action}`);
  }
  const records = result.metrics.find((m) => m.name === 'onedrive_connector_records_total');
  if (records !== undefined) {
    const byOutcome = new Map<string, number>();
    for (const v of records.values) {
      const key = v.labels.outcome === 'published' ? 'published' : `${String(v.labels.outcome)}:${String(v.labels.reason)}`;
      byOutcome.set(key, (byOutcome.get(key) ?? 0) + v.value);
    }
    lines.push('', `Records accounted for: ${[...byOutcome].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  if (census.sample !== undefined) lines.push('', 'One event (a personal-OneDrive download):', JSON.stringify(census.sample, null, 2));
  return `${lines.join('\n')}\n`;
}
