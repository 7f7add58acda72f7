/**
 * `onedrive-connector normalize [FILE…]`: the normalizer on the command line, for operators checking
 * what a blob turns into and for reproducing a dead letter. Events go to stdout as NDJSON (so the
 * output pipes into jq or kcat); the accounting of every record goes to stderr.
 */
import type { Command } from 'commander';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { NormalizeContext } from '../../contracts/file-event.ts';
import { fromFile, parseRecords } from '../../parse/records.ts';
import { RecentEventIds } from '../../pipeline/recent-event-ids.ts';
import { normalize } from '../../transform/normalize/index.ts';

/** Used for records without OrganizationId when --tenant-id is not given. */
export const UNKNOWN_TENANT = 'unknown';
const EXAMPLES_PER_REASON = 3;
/** Ids remembered to drop Microsoft's repeated records, across every input of one run (bounded like the pipeline's). */
const REMEMBERED_IDS = 1_000_000;

export interface NormalizeIo {
  stdout: Writable;
  stderr: Writable;
  stdin: AsyncIterable<Uint8Array>;
  now: () => Date;
}

interface Tally {
  events: number;
  filtered: Map<string, number>;
  rejected: Map<string, { count: number; examples: string[] }>;
  malformed: { count: number; examples: string[] };
}

export function registerNormalizeCommand(program: Command): void {
  program
    .command('normalize')
    .description('Turn Office 365 audit records (Audit.SharePoint) into FileEvent v1 JSON lines.')
    .argument('[files...]', 'files holding records: a content blob (JSON array, BOM allowed), NDJSON, or one JSON object; "-" or none reads stdin')
    .option('--tenant-id <id>', "tenant id written to o365.tenantId (default: each record's OrganizationId)")
    .addHelpText(
      'after',
      `
Output:
  stdout  one FileEvent v1 per line (schema/file-event.v1.json), in input order
  stderr  per input: events, filtered records by reason (repeats of an event id already written,
          in this input or an earlier one, as "duplicate", like the pipeline), rejected records by
          reason (with the first few details), and parse errors (malformed JSON, with byte offsets)

Exit status: 0 when every input was read (even if records were filtered or rejected);
             1 when an input could not be read.

Examples:
  onedrive-connector normalize blob.json > events.ndjson
  cat records.ndjson | onedrive-connector normalize --tenant-id 0e1dddce-163e-4b0b-9e33-87ba56ac4655
  onedrive-connector normalize a.json b.json 2> summary.txt | jq -r '.event.action' | sort | uniq -c
`,
    )
    .action(async (files: string[], options: { tenantId?: string }) => {
      process.exitCode = await runNormalize(files, options, {
        stdout: process.stdout,
        stderr: process.stderr,
        stdin: process.stdin,
        now: () => new Date(),
      });
    });
}

/** Runs the command; returns the exit status. */
export async function runNormalize(files: readonly string[], options: { tenantId?: string }, io: NormalizeIo): Promise<number> {
  const inputs = files.length === 0 ? ['-'] : files;
  const context: NormalizeContext = { tenantId: options.tenantId ?? UNKNOWN_TENANT, now: io.now };
  let status = 0;
  // As the pipeline does: a record repeated within or across inputs is one event, the repeats counted.
  const seen = new RecentEventIds(REMEMBERED_IDS);
  for (const input of inputs) {
    const label = input === '-' ? 'stdin' : input;
    const tally: Tally = { events: 0, filtered: new Map(), rejected: new Map(), malformed: { count: 0, examples: [] } };
    try {
      const source = input === '-' ? io.stdin : fromFile(input);
      for await (const item of parseRecords(source)) {
        if (item.kind === 'malformed') {
          tally.malformed.count += 1;
          if (tally.malformed.examples.length < EXAMPLES_PER_REASON) tally.malformed.examples.push(`item ${item.index}: ${item.detail}`);
          continue;
        }
        const result = normalize(item.value, context);
        if (result.kind === 'event' && seen.has(result.event.event.id)) {
          tally.filtered.set('duplicate', (tally.filtered.get('duplicate') ?? 0) + 1);
        } else if (result.kind === 'event') {
          seen.addAll([result.event.event.id]);
          if (options.tenantId !== undefined) result.event.o365.tenantId = options.tenantId;
          tally.events += 1;
          if (!io.stdout.write(`${JSON.stringify(result.event)}\n`)) await once(io.stdout, 'drain');
        } else if (result.kind === 'filtered') {
          tally.filtered.set(result.reason, (tally.filtered.get(result.reason) ?? 0) + 1);
        } else {
          const entry = tally.rejected.get(result.reason) ?? { count: 0, examples: [] };
          entry.count += 1;
          if (entry.examples.length < EXAMPLES_PER_REASON) entry.examples.push(`record ${item.index}${idOf(item.value)}: ${result.detail}`);
          tally.rejected.set(result.reason, entry);
        }
      }
    } catch (error) {
      status = 1;
      io.stderr.write(`normalize: cannot read ${label}: ${error instanceof Error ? error.message : String(error)}\n`);
      continue;
    }
    io.stderr.write(summary(label, tally));
  }
  return status;
}

function idOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '';
  const id = (value as Record<string, unknown>).Id;
  return typeof id === 'string' ? ` (Id ${id.slice(0, 64)})` : '';
}

function summary(label: string, tally: Tally): string {
  const filtered = [...tally.filtered.values()].reduce((a, b) => a + b, 0);
  const rejected = [...tally.rejected.values()].reduce((a, b) => a + b.count, 0);
  const lines = [
    `normalize: ${label}: ${tally.events} events, ${filtered} filtered, ${rejected} rejected, ${tally.malformed.count} parse errors`,
  ];
  for (const [reason, count] of [...tally.filtered].sort()) lines.push(`  filtered ${reason}: ${count}`);
  for (const [reason, entry] of [...tally.rejected].sort()) {
    lines.push(`  rejected ${reason}: ${entry.count}`, ...entry.examples.map((e) => `    ${e}`));
  }
  if (tally.malformed.count > 0) {
    lines.push(`  parse errors: ${tally.malformed.count}`, ...tally.malformed.examples.map((e) => `    ${e}`));
  }
  return `${lines.join('\n')}\n`;
}
