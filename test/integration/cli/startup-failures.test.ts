import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configScratch, MINIMAL_YAML, PUBLISHER, SECRET_ENV } from '../../support/config-fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../../bin/onedrive-connector.js');

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs the CLI as a user would; `onStart` may signal it. Fails the test if it does not end within `limitMs`. */
async function cli(args: string[], options: { env?: NodeJS.ProcessEnv; limitMs?: number; onStart?: (child: ReturnType<typeof spawn>) => void } = {}): Promise<Spawned> {
  const started = Date.now();
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'info', ...options.env };
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  options.onStart?.(child);
  const limit = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 60_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(limit);
  return { code, signal, stdout, stderr, elapsedMs: Date.now() - started };
}

/** A port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Issue 13 item 5: every command ends right after a start-up failure, non-zero, and never claims a clean stop. */
describe('CLI start-up failures end and tell the truth (spawned)', { timeout: 120_000 }, () => {
  let scratch: Awaited<ReturnType<typeof configScratch>>;
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    scratch = await configScratch('cli-startup-');
    busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((done) => busy.close(() => done()));
    await scratch.cleanup();
  });

  it.each([[['demo']], [['replay', '--fixtures', 'fixtures/tenants']]])('%j with an unreachable broker exits 1 with the Kafka error, metrics server closed, no "stopped cleanly"', async (command) => {
    const brokers = `127.0.0.1:${await closedPort()}`;
    const result = await cli([...command, '--brokers', brokers, '--metrics-port', '0', '--timeout', '30']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Kafka unavailable/);
    expect(result.stdout + result.stderr).not.toMatch(/stopped cleanly|caught up/);
    // kafkajs' own retries take ~10 s; the point is that it ends, well before the run's timeout.
    expect(result.elapsedMs).toBeLessThan(45_000);
  });

  it('demo honours SIGTERM while it is still starting (broker unreachable): exits at once, 130', async () => {
    const brokers = `127.0.0.1:${await closedPort()}`;
    let signalledAt = 0;
    const result = await cli(['demo', '--brokers', brokers, '--metrics-port', '0'], {
      // kafkajs' connection retries are logged at debug: they show that start-up is under way.
      env: { LOG_LEVEL: 'debug' },
      onStart: (child) => {
        // Once kafkajs reports its first failed connection, start-up is under way (handlers installed).
        const onData = (chunk: Buffer): void => {
          if (signalledAt === 0 && chunk.toString('utf8').includes('ECONNREFUSED')) {
            signalledAt = Date.now();
            child.kill('SIGTERM');
          }
        };
        child.stderr?.on('data', onData);
      },
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('demo interrupted before the backlog was collected');
    expect(Date.now() - signalledAt).toBeLessThan(8_000);
  });

  it.each([
    [['demo', '--tenants', 'abc'], '--tenants'],
    [['demo', '--timeout', 'abc'], '--timeout'],
    [['demo', '--events-per-hour', '-5'], '--events-per-hour'],
    [['demo', '--metrics-port', '70000'], '--metrics-port'],
    [['demo', '--brokers', 'nohostport'], '--brokers'],
    [['replay', '--fixtures', 'fixtures/tenants', '--timeout', '0'], '--timeout'],
  ])('%j is refused with exit 1 before anything starts', async (args, option) => {
    const result = await cli(args, { limitMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(option);
    expect(result.stderr).toMatch(/invalid/);
    expect(result.stdout).not.toMatch(/caught up/);
  });

  it('run with the metrics port taken exits non-zero naming metrics.port, and does not say it stopped cleanly', async () => {
    const file = await scratch.write('busy-port.yaml', `${MINIMAL_YAML}metrics:\n  host: 127.0.0.1\n  port: ${busyPort}\n`);
    const result = await cli(['run', '-c', file], { env: { [SECRET_ENV]: 'not-a-real-secret' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('metrics.port');
    expect(result.stderr).toContain(String(busyPort));
    expect(result.stdout + result.stderr).not.toContain('stopped cleanly');
  });

  it('run and config check with the spool directory under a file: both refuse it, naming connector.spoolDirectory', async () => {
    const blocker = await scratch.write('a-file', 'x');
    const yaml = MINIMAL_YAML.replace(`publisherIdentifier: ${PUBLISHER}`, `publisherIdentifier: ${PUBLISHER}\n  spoolDirectory: ${blocker}/spool`);
    const file = await scratch.write('bad-spool.yaml', `${yaml}metrics:\n  enabled: false\n`);
    const env = { [SECRET_ENV]: 'not-a-real-secret' };
    const check = await cli(['config', 'check', file], { env });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/connector\.spoolDirectory: Cannot write to the spool directory .*a-file\/spool: ENOTDIR/);
    const run = await cli(['run', '-c', file], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot write to the spool directory .*a-file\/spool/);
    expect(run.stdout + run.stderr).not.toContain('stopped cleanly');
  });

  it('run with an empty secret variable names the key and the variable', async () => {
    const file = await scratch.write('empty-secret.yaml', MINIMAL_YAML);
    const result = await cli(['run', '-c', file], { env: { [SECRET_ENV]: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`auth.clientSecret: environment variable ${SECRET_ENV} is set but empty`);
  });
});
