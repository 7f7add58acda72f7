import type { Kafka } from 'kafkajs';
import { readToEnd } from './read-to-end.ts';

/**
 * Rebuilds, at start, the event ids each tenant published recently (exactly-once mode). Each
 * committed unit wrote its ids in its own transaction, so a read_committed read gives exactly the ids
 * whose events are in Kafka: none missing, none from aborted work. Microsoft repeats records across
 * blobs, sometimes days apart; without this a restart would publish such a repeat a second time.
 */
export async function loadPublishedIds(
  kafka: Kafka,
  options: { topic: string; sinceMs: number; tenants: ReadonlySet<string>; deadlineMs: number; onIds: (tenantId: string, ids: readonly string[]) => void },
): Promise<{ records: number }> {
  let records = 0;
  await readToEnd(kafka, {
    topic: options.topic,
    deadlineMs: options.deadlineMs,
    groupIdPrefix: 'onedrive-connector-published-ids',
    onMessage: (message) => {
      if (Number(message.timestamp) < options.sinceMs) return;
      const tenantId = message.key?.toString() ?? '';
      if (!options.tenants.has(tenantId)) return;
      const value = JSON.parse(message.value?.toString() ?? '{}') as { ids?: unknown };
      if (Array.isArray(value.ids)) {
        records += 1;
        options.onIds(tenantId, value.ids.filter((id): id is string => typeof id === 'string'));
      }
    },
  });
  return { records };
}
