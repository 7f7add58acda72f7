import type { TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { GroupCommitSink, type GroupTransaction } from '../../../src/kafka/group-commit-sink.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { FixedCursorSource, sampleEvent } from '../../contract/sink.contract.ts';

/** What the scripted client saw, per producer it made. */
interface ScriptedProducer {
  id: number;
  closed: boolean;
  sent: string[][];
}

type Answer = 'ok' | 'no-answer' | 'fenced' | 'rejected';

/**
 * The shared sink on a scripted client: commits and sends answer as the test says, so the paths a
 * real broker seldom shows (a commit without answer, a fence at commit) run deterministically. The
 * same paths on the wire, for both clients: test/integration/kafka-sink.test.ts.
 */
class ScriptedSink extends GroupCommitSink<ScriptedProducer> {
  readonly producers: ScriptedProducer[] = [];
  commitAnswer: Answer = 'ok';
  committed: string[][] = [];
  aborted = 0;

  constructor(mode: 'exactly-once' | 'at-least-once', onCommitUncertain?: (error: ConnectorError) => void) {
    super(
      {
        topics: { events: 'events', deadLetter: 'dead', cursors: 'cursors', publishedIds: 'ids' },
        mode,
        shard: 3,
        transactionalIdPrefix: 'test',
        compression: 'none',
        maxBatchMessages: 100,
        group: { intervalMs: 1, maxRecords: 1000, maxBytes: 1 << 20 },
        transactionTimeoutMs: 60_000,
        logger: silentLogger,
        ...(onCommitUncertain === undefined ? {} : { onCommitUncertain }),
      },
      { client: 'scripted' },
    );
  }

  protected createProducer(): Promise<ScriptedProducer> {
    const producer = { id: this.producers.length + 1, closed: false, sent: [] };
    this.producers.push(producer);
    return Promise.resolve(producer);
  }

  protected initProducer(): Promise<void> {
    return Promise.resolve();
  }

  protected closeProducer(producer: ScriptedProducer): Promise<void> {
    producer.closed = true;
    return Promise.resolve();
  }

  protected sendAtLeastOnce(producer: ScriptedProducer, request: readonly TopicMessages[]): Promise<void> {
    producer.sent.push(request.flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.key)}`)));
    return Promise.resolve();
  }

  protected beginTransaction(producer: ScriptedProducer): Promise<GroupTransaction> {
    const keys: string[] = [];
    return Promise.resolve({
      send: (request) => {
        for (const t of request) for (const m of t.messages) keys.push(`${t.topic}:${String(m.key)}`);
        producer.sent.push([...keys]);
        return Promise.resolve();
      },
      commit: () => {
        if (this.commitAnswer === 'ok') {
          this.committed.push(keys);
          return Promise.resolve();
        }
        return Promise.reject(new Error(this.commitAnswer));
      },
      abort: () => {
        this.aborted += 1;
        return Promise.resolve();
      },
    });
  }

  protected toError(error: unknown): Error {
    const message = (error as Error).message;
    if (message === 'fenced') return new ConnectorError('SINK_FENCED', 'fenced', { stage: 'sink', retriable: false });
    if (message === 'no-answer') return new ConnectorError('SINK_UNAVAILABLE', 'request timed out', { stage: 'sink', retriable: true });
    return new ConnectorError('SINK_REJECTED', message, { stage: 'sink', retriable: true });
  }
}

async function commitOne(sink: ScriptedSink, eventId: string, source = new FixedCursorSource('tenant-a', '2026-11-20T10:00:00.000Z')): Promise<void> {
  const unit = await sink.begin('tenant-a');
  await unit.send([sampleEvent(eventId)]);
  await unit.commit({ source, contentId: `blob-${eventId}` });
}

describe('GroupCommitSink (shared by the kafkajs and @platformatic/kafka sinks)', () => {
  it('writes a group as one transaction with the moved cursor on the shard partition, then commits', async () => {
    const sink = new ScriptedSink('exactly-once');
    await sink.start();
    await commitOne(sink, 'e1');
    expect(sink.committed).toHaveLength(1);
    expect(sink.committed[0]).toEqual(expect.arrayContaining(['events:e1', expect.stringMatching(/^cursors:/) as unknown]));
    await sink.stop();
    expect(sink.producers[0]?.closed).toBe(true);
  });

  it('a commit without an answer is not retried: the group rejects as SINK_COMMIT_UNCERTAIN, the owner is told, and the sink refuses work until the shard is taken over', async () => {
    const told: ConnectorError[] = [];
    const sink = new ScriptedSink('exactly-once', (error) => told.push(error));
    await sink.start();
    sink.commitAnswer = 'no-answer';
    await expect(commitOne(sink, 'e1')).rejects.toMatchObject({ code: 'SINK_COMMIT_UNCERTAIN', retriable: false });
    expect(told.map((e) => e.code)).toEqual(['SINK_COMMIT_UNCERTAIN']);
    // No abort after a commit was sent: it may have committed, and aborting would not undo that.
    expect(sink.aborted).toBe(0);
    sink.commitAnswer = 'ok';
    await expect(sink.begin('tenant-a')).rejects.toMatchObject({ code: 'SINK_COMMIT_UNCERTAIN' });
    await expect(sink.saveCursor(new FixedCursorSource('tenant-a', undefined))).rejects.toMatchObject({ code: 'SINK_COMMIT_UNCERTAIN' });
    expect(sink.committed).toEqual([]);
    await sink.stop();
  });

  it('a fence answered at commit rejects the group as fenced, without the uncertain take-over', async () => {
    const told: ConnectorError[] = [];
    const sink = new ScriptedSink('exactly-once', (error) => told.push(error));
    await sink.start();
    sink.commitAnswer = 'fenced';
    await expect(commitOne(sink, 'e1')).rejects.toMatchObject({ code: 'SINK_FENCED' });
    expect(told).toEqual([]);
    await expect(sink.begin('tenant-a')).rejects.toMatchObject({ code: 'SINK_FENCED' });
    await sink.stop();
  });

  it('at least once: a group is produce requests only, no transaction and no cursor', async () => {
    const sink = new ScriptedSink('at-least-once');
    await sink.start();
    await commitOne(sink, 'e1');
    expect(sink.producers[0]?.sent).toEqual([['events:e1']]);
    expect(sink.committed).toEqual([]);
    await sink.stop();
  });
});
