import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 drops the records of aborted transactions (read_committed) with a filter that takes
 * the fetch response's aborted transactions in the order the broker lists them and moves past at
 * most one per record. The broker lists them in the order they were aborted (its transaction index),
 * not by first offset: two transactions open at once on a partition and aborted in the other order —
 * a replica cut off with two shards' groups open, both fenced by the new owner — let the first
 * one's records through as if committed (found by test/integration/scale/replicas.test.ts: 1,000
 * aborted events read back; the log, dumped with kafka.tools.DumpLogSegments, held ABORT markers for
 * both producers). The Java consumer keeps them in a queue ordered by first offset; this does the same.
 */

interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
}

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

function isAbortMarker(message: FetchedMessage): boolean {
  return message.key !== null && message.key !== undefined && Buffer.from(message.key).equals(ABORT_MARKER_KEY);
}

export function filterAbortedMessages({ messages, abortedTransactions }: { messages: FetchedMessage[]; abortedTransactions?: AbortedTransaction[] }): FetchedMessage[] {
  if (abortedTransactions === undefined || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const aborted = new Set<string>();
  return messages.filter((message) => {
    // Every aborted transaction that started at or before this record is in force from here on.
    while (pending.length > 0 && BigInt(message.offset) >= BigInt(pending[0]?.firstOffset ?? 0)) aborted.add(String(pending.shift()?.producerId));
    const producerId = String(message.batchContext.producerId);
    if (isAbortMarker(message)) {
      aborted.delete(producerId);
      return true;
    }
    return !(aborted.has(producerId) && message.batchContext.inTransaction);
  });
}

/**
 * Puts the filter above in place of kafkajs' own. Must run before kafkajs is first loaded (its
 * consumer module keeps a reference to the filter): the CLI entry point and the test setup do it first.
 */
const FIXED = Symbol.for('onedrive-connector.kafkajs-aborted-filter');

export function installAbortedFilterFix(): void {
  const require = createRequire(import.meta.url);
  const filterPath = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
  const batchPath = require.resolve('kafkajs/src/consumer/batch.js');
  // Installed already (another module instance of this file, e.g. in a test worker): nothing to do.
  if ((require.cache[filterPath]?.exports as Record<symbol, unknown> | undefined)?.[FIXED] === true) return;
  if (require.cache[batchPath] !== undefined) {
    throw new Error('kafkajs was loaded before its aborted-transaction filter could be fixed: import src/kafka/kafkajs-aborted-filter.ts first');
  }
  const cached = require.cache[filterPath];
  Object.defineProperty(filterAbortedMessages, FIXED, { value: true });
  if (cached !== undefined) {
    cached.exports = filterAbortedMessages;
    return;
  }
  require(filterPath);
  const loaded = require.cache[filterPath];
  if (loaded === undefined) throw new Error('Could not load kafkajs\' aborted-transaction filter to replace it');
  loaded.exports = filterAbortedMessages;
}

installAbortedFilterFix();
