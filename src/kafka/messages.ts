import type { DeadLetter } from '../contracts/sink.ts';
import type { FileEvent } from '../contracts/file-event.ts';

/** What goes on the wire; kafkajs' Message minus the fields we never set. */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Dead-letter payloads are for a human to look at, not a second copy of a huge blob. */
export const MAX_DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024;

/** Keyed by event id so compaction-free consumers can still dedupe redelivered events. */
export function eventMessage(tenantId: string, event: FileEvent): OutgoingMessage {
  return {
    key: event.event.id,
    value: JSON.stringify(event),
    headers: {
      'tenant-id': tenantId,
      'schema-version': String(event.schemaVersion),
      'content-type': 'application/json',
    },
  };
}

/** One record per committed unit: which event ids a tenant published (exactly-once restart dedupe). */
export function publishedIdsMessage(tenantId: string, ids: readonly string[]): OutgoingMessage {
  return { key: tenantId, value: JSON.stringify({ tenantId, ids }), headers: { 'tenant-id': tenantId, 'content-type': 'application/json' } };
}

/** Keeps each published-ids record well under the broker's default message.max.bytes (1 MiB). */
export const MAX_PUBLISHED_IDS_BYTES = 512 * 1024;

/**
 * A unit's ids as as many records as needed: a huge blob (hundreds of thousands of records) in one
 * record would be refused with MESSAGE_TOO_LARGE on every attempt, and the blob never committed.
 */
export function publishedIdsMessages(tenantId: string, ids: readonly string[], maxBytes = MAX_PUBLISHED_IDS_BYTES): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (part.length > 0 && bytes + size > maxBytes) {
      messages.push(publishedIdsMessage(tenantId, part));
      part = [];
      bytes = 0;
    }
    part.push(id);
    bytes += size;
  }
  if (part.length > 0) messages.push(publishedIdsMessage(tenantId, part));
  return messages;
}

export function deadLetterMessage(item: DeadLetter, at: Date): OutgoingMessage {
  const capped = item.payload === null ? null : capUtf8(item.payload, MAX_DEAD_LETTER_PAYLOAD_BYTES);
  const value = {
    ...item,
    payload: capped?.text ?? null,
    payloadTruncated: capped?.truncated ?? false,
    at: at.toISOString(),
  };
  return {
    key: `${item.tenantId}:${item.contentId ?? ''}:${item.recordId ?? ''}`,
    value: JSON.stringify(value),
    headers: { 'tenant-id': item.tenantId, reason: item.reason, 'content-type': 'application/json' },
  };
}

/** Cuts at a character boundary so the cut payload is still valid UTF-8. */
export function capUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Continuation bytes look like 10xxxxxx; back up to the first byte of the character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
