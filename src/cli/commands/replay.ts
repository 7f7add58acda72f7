import type { Command } from 'commander';
import { createKafka } from '../../kafka/client.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { DEFAULT_REPLAY_SPEED, replayFixtures, type ReplayResult } from '../../fixtures/replay.ts';
import { formatReplayReport } from '../../fixtures/replay-report.ts';
import { positiveNumber } from '../option-parsers.ts';
import { formatReport, progressPrinter } from '../run-report.ts';
import { runInterruptible } from '../signals.ts';
import { addEmbeddedOptions } from './demo.ts';

interface ReplayFlags {
  fixtures: string;
  brokers: string[];
  mode: 'exactly-once' | 'at-least-once';
  timeout: number;
  metricsPort: number;
  speed: number;
}

/**
 * `replay`: recorded tenants → simulator on a compressed clock → connector → Kafka, until every
 * recorded blob is collected (or the timeout). Exits 1 when a recorded blob was not collected,
 * naming it and why (fixtures/README.md, "Replaying").
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
    // A start-up failure may also be an unusable fixture folder.
    const result = await runInterruptible<ReplayResult>(
      (signal) =>
        replayFixtures(
          {
            fixturesDir: flags.fixtures,
            speed: flags.speed,
            brokers: flags.brokers,
            deliveryMode: flags.mode,
            topicPrefix: `replay-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}.`,
            timeoutMs: flags.timeout * 1000,
            metricsPort: flags.metricsPort,
            logger,
            signal,
            onProgress: progressPrinter(process.stdout.isTTY),
          },
          (brokers) => createKafka({ clientId: 'replay-census', brokers, logger }),
        ),
      (replayed) => replayed.run,
      'replay interrupted before every recorded blob was collected',
    );
    if (result === undefined) return;
    process.stdout.write(formatReport(result.run, result.output.census));
    process.stdout.write(formatReplayReport(result.report));
    process.exitCode = result.exitCode;
  });
}
