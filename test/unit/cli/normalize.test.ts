import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerNormalizeCommand, runNormalize } from '../../../src/cli/commands/normalize.ts';
import { fromBuffer } from '../../../src/parse/records.ts';
import { schemaErrors } from '../transform/schema-validator.ts';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const bin = join(repoRoot, 'bin', 'onedrive-connector.js');
const dir = mkdtempSync(join(tmpdir(), 'normalize-cli-'));

const record = (id: string, operation: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Id: id,
  RecordType: 6,
  CreationTime: '2024-01-02T03:04:05',
  Operation: operation,
  OrganizationId: 'B86AB9D4-FCF1-4B11-8A06-7A8F91B47FBD',
  Workload: 'OneDrive',
  UserId: 'alice@contoso.com',
  ObjectId: 'https://contoso-my.sharepoint.com/personal/alice_contoso_com/Documents/a.docx',
  ClientIP: '1.2.3.4',
  ...extra,
});
const blob = [
  record('r1', 'FileDownloaded'),
  record('r2', 'FolderCreated'),
  record('r3', 'FileUploaded', { ObjectId: null }),
  record('r4', 'PageViewed'),
];
const blobFile = join(dir, 'blob.json');
writeFileSync(blobFile, `\uFEFF${JSON.stringify(blob)}`);

function collect(stream: PassThrough): () => string {
  const parts: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => parts.push(chunk));
  return () => Buffer.concat(parts).toString('utf8');
}

async function run(files: string[], options: { tenantId?: string } = {}, stdin = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const status = await runNormalize(files, options, { stdout, stderr, stdin: fromBuffer(stdin), now: () => new Date(0) });
  return { status, stdout: out(), stderr: err() };
}

describe('normalize command (in process)', () => {
  it('writes events as NDJSON and accounts for every record on stderr', async () => {
    const { status, stdout, stderr } = await run([blobFile]);
    expect(status).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: { id: string }; o365: { tenantId: string } });
    expect(events.map((e) => e.event.id)).toEqual(['r1']);
    expect(schemaErrors(events[0])).toBeNull();
    expect(events[0]!.o365.tenantId).toBe('b86ab9d4-fcf1-4b11-8a06-7a8f91b47fbd');
    expect(stderr).toContain('1 events, 2 filtered, 1 rejected, 0 parse errors');
    expect(stderr).toContain('filtered folder-operation: 1');
    expect(stderr).toContain('filtered page-or-list-view: 1');
    expect(stderr).toMatch(/rejected missing-field: 1\n {4}record 2 \(Id r3\): ObjectId is missing/);
  });

  it('reads NDJSON from stdin, reports a bad line, and applies --tenant-id', async () => {
    const input = `${JSON.stringify(record('a', 'FileDownloaded'))}\n{broken\n${JSON.stringify(record('b', 'FileModified'))}\n`;
    const { status, stdout, stderr } = await run([], { tenantId: 'override' }, input);
    expect(status).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { o365: { tenantId: string } });
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.o365.tenantId === 'override')).toBe(true);
    expect(stderr).toMatch(/stdin: 2 events, 0 filtered, 0 rejected, 1 parse errors/);
    expect(stderr).toMatch(/item 1: line 2 at byte \d+/);
  });

  it('fails with a clear message when an input cannot be read, and still processes the others', async () => {
    const { status, stdout, stderr } = await run([join(dir, 'missing.json'), blobFile]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/cannot read .*missing\.json: ENOENT/);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('registers on a program with helpful --help', () => {
    const program = new Command('onedrive-connector').exitOverride();
    registerNormalizeCommand(program);
    const help = program.commands.find((c) => c.name() === 'normalize')?.helpInformation() ?? '';
    expect(help).toContain('--tenant-id <id>');
    expect(help).toContain('[files...]');
  });
});

describe('normalize command (spawned bin)', () => {
  it('runs end to end on a blob with a BOM', () => {
    const result = spawnSync(process.execPath, [bin, 'normalize', blobFile], { encoding: 'utf8', cwd: repoRoot });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('1 events, 2 filtered, 1 rejected, 0 parse errors');
  });

  it('exits non-zero for an unreadable input', () => {
    const result = spawnSync(process.execPath, [bin, 'normalize', join(dir, 'nope.json')], { encoding: 'utf8', cwd: repoRoot });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/cannot read .*nope\.json/);
  });

  it('prints help with examples', () => {
    const result = spawnSync(process.execPath, [bin, 'normalize', '--help'], { encoding: 'utf8', cwd: repoRoot });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('--tenant-id');
  });
});
