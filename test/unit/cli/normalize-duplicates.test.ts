import { PassThrough } from 'node:stream';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNormalize } from '../../../src/cli/commands/normalize.ts';
import { fromBuffer } from '../../../src/parse/records.ts';

const FIXTURE = resolve(import.meta.dirname, '../../../fixtures/tenants/fabrikamrec/blobs/blob-1.json');

async function normalizeFiles(files: string[]): Promise<{ status: number; events: Array<{ event: { id: string } }>; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const status = await runNormalize(files, {}, { stdout, stderr, stdin: fromBuffer(''), now: () => new Date(0) });
  const events = Buffer.concat(out).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: { id: string } });
  return { status, events, stderr: Buffer.concat(err).toString('utf8') };
}

/** Issue 13: `normalize` drops Microsoft's repeated records by id as the pipeline does, and counts them. */
describe('normalize drops repeated records', () => {
  it('prints each event id once (blob-1 of the shipped fixture repeats its records) and counts the repeats as duplicate', async () => {
    const { status, events, stderr } = await normalizeFiles([FIXTURE]);
    expect(status).toBe(0);
    const ids = events.map((e) => e.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(3);
    expect(stderr).toMatch(/3 events, 8 filtered/);
    expect(stderr).toContain('filtered duplicate: 6');
  });

  it('drops repeats across inputs too, as the pipeline does across blobs', async () => {
    const { events, stderr } = await normalizeFiles([FIXTURE, FIXTURE]);
    expect(events).toHaveLength(3);
    expect(stderr).toMatch(/blob-1\.json: 0 events, 11 filtered/);
  });
});
