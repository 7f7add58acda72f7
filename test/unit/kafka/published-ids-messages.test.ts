import { describe, expect, it } from 'vitest';
import { MAX_PUBLISHED_IDS_BYTES, publishedIdsMessages } from '../../../src/kafka/messages.ts';

describe('publishedIdsMessages', () => {
  it('splits the ids of a huge blob into records under the size limit, keeping every id once and in order', () => {
    const ids = Array.from({ length: 250_000 }, (_, i) => `${i.toString(16).padStart(8, '0')}-4f89-41d3-9a0c-0305e82c3301`);
    const messages = publishedIdsMessages('t1', ids);
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) {
      expect(Buffer.byteLength(message.value)).toBeLessThanOrEqual(MAX_PUBLISHED_IDS_BYTES + 64);
      expect(message.key).toBe('t1');
    }
    expect(messages.flatMap((m) => (JSON.parse(m.value) as { ids: string[] }).ids)).toEqual(ids);
  });

  it('counts escaped characters, and gives one record for a small unit and none for no ids', () => {
    const escaped = Array.from({ length: 2_000 }, (_, i) => `${'\u0001'.repeat(200)}${i}`);
    for (const message of publishedIdsMessages('t1', escaped)) expect(Buffer.byteLength(message.value)).toBeLessThanOrEqual(MAX_PUBLISHED_IDS_BYTES + 2048);
    expect(publishedIdsMessages('t1', ['a', 'b'])).toHaveLength(1);
    expect(publishedIdsMessages('t1', [])).toEqual([]);
  });
});
