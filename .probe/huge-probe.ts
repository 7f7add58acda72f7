import { ManualClock, startSimulator } from '../src/simulator/index.ts';
import { RssSampler } from '../test/integration/memory/child-connector.ts';
import { expectedEvents } from '../test/integration/memory/expected-events.ts';
import { M, metricSum, MiB, startConnector, waitForMetrics } from '../bench/lib.ts';

const sim = await startSimulator({ seed: 'bench-huge', clock: new ManualClock(Date.now()), quotaPerMinute: 1_000_000_000, tenants: [{ historyHours: 1, eventsPerHour: 600, largeBlob: { sizeBytes: 256 * MiB, minutesAgo: 30 } }] });
const truth = await expectedEvents(sim);
const expected = [...truth.eventIds.values()].reduce((n, ids) => n + ids.size, 0);
const connector = await startConnector(sim, 'exactly-once');
const sampler = new RssSampler(connector.child.pid, 200);
const peaks: Record<string, number> = {};
const names = ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'process_resident_memory_bytes'].map((n) => M + n);
let first: Record<string, number> | undefined;
await waitForMetrics(connector.child, connector.startedAt + 180_000, (t) => {
  const now: Record<string, number> = {};
  for (const n of names) { const v = metricSum(t, n); now[n] = v; peaks[n] = Math.max(peaks[n] ?? 0, v); }
  if (first === undefined && metricSum(t, `${M}events_published_total`) === 0) first = undefined;
  first ??= now;
  return metricSum(t, `${M}events_published_total`) >= expected && metricSum(t, `${M}inflight_blobs`) === 0;
}, 300);
sampler.stop();
console.log('first', Object.fromEntries(Object.entries(first ?? {}).map(([k, v]) => [k, Math.round(v / MiB)])));
console.log('peaks', Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v / MiB)])), 'rss peak', Math.round(Math.max(sampler.highWaterMark, sampler.peak) / MiB));
await connector.close();
await sim.close();
