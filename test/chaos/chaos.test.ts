import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './lib/world.ts';

/**
 * The short chaos run for CI: the real driver (test/chaos/driver.ts) against a small backlog, with a
 * few SIGKILLs and one broker outage. It stops and starts its broker, so it runs on its own broker
 * (CHAOS_KAFKA_PORT, default 29192), never on the one other test layers share; it starts that broker
 * when none answers there and stops it afterwards. The full run: `npm run test:chaos` (docs/chaos.md).
 */
const port = process.env['CHAOS_KAFKA_PORT'] ?? '29192';
const runDir = process.env['CHAOS_KAFKA_RUN_DIR'] ?? join(PROJECT_ROOT, '.run', `kafka-chaos-${port}`);
const kafkaEnv: NodeJS.ProcessEnv = {
  ...process.env,
  KAFKA_PORT: port,
  KAFKA_CONTROLLER_PORT: process.env['CHAOS_KAFKA_CONTROLLER_PORT'] ?? String(Number(port) + 1),
  KAFKA_RUN_DIR: runDir,
  KAFKA_BROKERS: `127.0.0.1:${port}`,
  // scripts/test.sh gives the shared broker a SASL_SSL listener on KAFKA_SASL_SSL_PORT; this broker needs none,
  // and inheriting that port would make it fail to bind.
  KAFKA_SASL_SSL_PORT: '',
};

function run(command: string, args: string[], onLine?: (line: string) => void): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: kafkaEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim().length > 0) onLine?.(line);
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

const kafka = (command: 'start' | 'stop' | 'status'): Promise<{ code: number | null }> => run('bash', [join(PROJECT_ROOT, 'scripts/kafka.sh'), command]);

describe('chaos (short): SIGKILLs and a broker outage during a backlog', () => {
  let startedBroker = false;
  beforeAll(async () => {
    if ((await kafka('status')).code !== 0) {
      const { code } = await kafka('start');
      expect(code, `scripts/kafka.sh start on port ${port}`).toBe(0);
      startedBroker = true;
    } else {
      // The outage runs kafka.sh stop, which acts on the pid in KAFKA_RUN_DIR: it must be this broker's.
      const properties = await readFile(join(runDir, 'server.properties'), 'utf8').catch(() => '');
      expect(properties, `the broker on ${port} must be the one of ${runDir} (set CHAOS_KAFKA_PORT/CHAOS_KAFKA_RUN_DIR)`).toContain(`PLAINTEXT://127.0.0.1:${port},`);
    }
  }, 300_000);
  afterAll(async () => {
    if (startedBroker) await kafka('stop');
  }, 120_000);

  // at-least-once publishes about twice as fast: a larger backlog keeps the outage in the middle of it.
  it.each([
    ['exactly-once', 'ci-eo', '12'],
    ['at-least-once', 'ci-alo', '30'],
  ])('%s: every generated event arrives (exactly once in exactly-once mode)', async (mode, seed, eventsPerHour) => {
    const args = [
      '--disable-warning=TimeoutNegativeWarning',
      join(PROJECT_ROOT, 'test/chaos/driver.ts'),
      ...['--mode', mode, '--seed', seed, '--tenants', '2', '--events-per-hour', eventsPerHour, '--kills', '4'],
      ...['--kill-min-ms', '500', '--kill-max-ms', '4000', '--broker-outage', '--outage-after-kills', '0', '--outage-seconds', '10', '--timeout-seconds', '240'],
    ];
    const progress: string[] = [];
    const { code, stdout } = await run(process.execPath, args, (line) => progress.push(line));
    // The driver's progress lines only when something went wrong; its summary always.
    if (code !== 0) console.log(progress.join('\n'));
    console.log(stdout);
    const match = /^generated=(\d+) published_unique=(\d+) duplicates=(\d+) lost=(\d+)$/m.exec(stdout);
    expect(match, 'the result line').not.toBeNull();
    const [generated, unique, duplicates, lost] = (match ?? []).slice(1).map(Number);
    expect(generated).toBeGreaterThan(2000);
    expect(lost).toBe(0);
    expect(unique).toBe(generated);
    if (mode === 'exactly-once') expect(duplicates).toBe(0);
    expect(stdout).toContain('same process resumed');
    expect(code).toBe(0);
  });

  // Issue 12: blobs listed 6 h to 3 days late, released after the catch-up, with a SIGKILL in the
  // middle of the sweep that collects them. Which blobs the 2 h release covers depends on the wall
  // clock, so every blob is in the tail (about 9 released; none released is a 1-in-10,000 chance).
  it('exactly-once with the late-listing tail: the sweep collects every late blob, nothing lost or repeated', async () => {
    const args = [
      '--disable-warning=TimeoutNegativeWarning',
      join(PROJECT_ROOT, 'test/chaos/driver.ts'),
      ...['--mode', 'exactly-once', '--seed', 'ci-tail', '--tenants', '2', '--events-per-hour', '45', '--kills', '2', '--late-tail', '1'],
      ...['--kill-min-ms', '500', '--kill-max-ms', '4000', '--timeout-seconds', '300'],
    ];
    const progress: string[] = [];
    const { code, stdout } = await run(process.execPath, args, (line) => progress.push(line));
    if (code !== 0) console.log(progress.join('\n'));
    console.log(stdout);
    const tail = /late tail: (\d+) blobs released/.exec(stdout);
    expect(Number(tail?.[1] ?? 0)).toBeGreaterThan(0);
    const match = /^generated=(\d+) published_unique=(\d+) duplicates=(\d+) lost=(\d+)$/m.exec(stdout);
    const [generated, unique, duplicates, lost] = (match ?? []).slice(1).map(Number);
    expect(lost).toBe(0);
    expect(unique).toBe(generated);
    expect(duplicates).toBe(0);
    expect(code).toBe(0);
  });
});
