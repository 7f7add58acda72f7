import { InvalidArgumentError, type Command } from 'commander';
import { createKafka } from '../../kafka/client.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { DEFAULT_REPLAY_SPEED, replayFixtures } from '../../fixtures/replay.ts';
import { formatReplayReport } from '../../fixtures/replay-report.ts';
import { formatReport, progressLine } from '../run-report.ts';
import { onShutdownSignals } from '../signals.ts';
import { addEmbeddedOptions } from './demo.ts';

interface ReplayFlags {
  fixtures: string;
  brokers: string;
  mode: 'exactly-once' | 'at-least-once';
  timeout: string;
  metricsPort: string;
  speed: number;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a positive number.');
  return n;
}

/**
 * `replay`: recorded tenants → simulator on a compressed clock → connector → Kafka, until every
 * recorded blob is collected (or the timeout). Exits 1 when a recorded blob was not collected,
 * naming it and why (fixtures/README.md, "The replay report").
 */
export function registerReplayCommand(program: Command): void {
  addEmbeddedOptions(
    program
      .command('replay')
      .description('The whole pipeline over recorded tenants (a fixtures folder) through the in-process simulator, into Kafka; reports recorded vs collected blobs.')
      .requiredOption('--fixtures <dir>', 'folder of recorded tenants (format: fixtures/README.md)')
      .option('--speed <factor>', 'simulated time runs this many times faster than the wall clock, so late blobs appear in seconds', positiveNumber, DEFAULT_REPLAY_SPEED),
  ).action(async (flags: ReplayFlags) => {
    const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });
    const brokers = flags.brokers.split(',');
    const topicPrefix = `replay-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}.`;
    const tty = process.stdout.isTTY;
    const interrupted = new AbortController();
    const release = onShutdownSignals(() => interrupted.abort());
    let lastPrint = 0;
    const result = await replayFixtures(
      {
        fixturesDir: flags.fixtures,
        speed: flags.speed,
        brokers,
        deliveryMode: flags.mode,
        topicPrefix,
        timeoutMs: Number(flags.timeout) * 1000,
        metricsPort: Number(flags.metricsPort),
        logger,
        onProgress: (progress) => {
          if (interrupted.signal.aborted) throw new Error('Interrupted');
          if (tty) process.stdout.write(`\r${progressLine(progress)}\x1b[K`);
          else if (progress.elapsedMs - lastPrint >= 5000) {
            lastPrint = progress.elapsedMs;
            process.stdout.write(`${progressLine(progress)}\n`);
          }
        },
      },
      (list) => createKafka({ clientId: 'replay-census', brokers: list, logger }),
    ).finally(release);
    if (tty) process.stdout.write('\n');
    process.stdout.write(formatReport(result.run, result.output.census));
    process.stdout.write(formatReplayReport(result.report));
    process.exitCode = result.exitCode;
  });
}
