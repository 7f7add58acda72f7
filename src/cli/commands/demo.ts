import type { Command } from 'commander';
import { createKafka } from '../../kafka/client.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { runEmbedded, type EmbeddedRunOptions } from '../embedded-pipeline.ts';
import { censusOfTopics, formatReport, progressLine } from '../run-report.ts';
import { onShutdownSignals } from '../signals.ts';

interface EmbeddedCommandOptions {
  brokers: string;
  mode: 'exactly-once' | 'at-least-once';
  timeout: string;
  metricsPort: string;
}

/** Shared by `demo` and `replay`: run, show progress on a terminal, then print what reached Kafka. */
export async function runEmbeddedCommand(simulator: EmbeddedRunOptions['simulator'], options: EmbeddedCommandOptions, label: string): Promise<void> {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });
  const brokers = options.brokers.split(',');
  const topicPrefix = `${label}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}.`;
  const tty = process.stdout.isTTY;
  const timeout = new AbortController();
  const release = onShutdownSignals(() => timeout.abort());
  let lastPrint = 0;
  const result = await runEmbedded({
    simulator,
    brokers,
    deliveryMode: options.mode,
    topicPrefix,
    timeoutMs: Number(options.timeout) * 1000,
    metricsPort: Number(options.metricsPort),
    logger,
    onProgress: (progress) => {
      if (timeout.signal.aborted) throw new Error('Interrupted');
      if (tty) process.stdout.write(`\r${progressLine(progress)}\x1b[K`);
      else if (progress.elapsedMs - lastPrint >= 5000) {
        lastPrint = progress.elapsedMs;
        process.stdout.write(`${progressLine(progress)}\n`);
      }
    },
  });
  release();
  if (tty) process.stdout.write('\n');
  const census = await censusOfTopics(createKafka({ clientId: `${label}-census`, brokers, logger }), result.config.kafka.topics);
  process.stdout.write(formatReport(result, census));
  process.exitCode = result.caughtUp && result.drained ? 0 : 1;
}

export function addEmbeddedOptions(command: Command): Command {
  return command
    .option('--brokers <list>', 'Kafka bootstrap servers', process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092')
    .option('--mode <mode>', 'exactly-once or at-least-once', 'exactly-once')
    .option('--timeout <seconds>', 'give up waiting for the backlog after this long', '300')
    .option('--metrics-port <port>', 'port for /metrics and /status while it runs', '9464');
}

export function registerDemoCommand(program: Command): void {
  addEmbeddedOptions(
    program
      .command('demo')
      .description('Simulated tenants → connector → Kafka: collects a 7-day synthetic backlog, then shows what arrived.')
      .option('--tenants <n>', 'healthy synthetic tenants', '3')
      .option('--seed <seed>', 'seed of the synthetic data', '1')
      .option('--events-per-hour <n>', 'synthetic events per tenant per hour', '60')
      .option('--no-audit-disabled-tenant', 'leave out the tenant whose audit log is off'),
  ).action(async (options: EmbeddedCommandOptions & { tenants: string; seed: string; eventsPerHour: string; auditDisabledTenant: boolean }) => {
    const healthy = Array.from({ length: Number(options.tenants) }, () => ({ scenario: 'healthy' as const }));
    const tenants = options.auditDisabledTenant ? [...healthy, { scenario: 'audit-disabled' as const }] : healthy;
    await runEmbeddedCommand({ seed: options.seed, tenants, eventsPerHour: Number(options.eventsPerHour) }, options, 'demo');
  });
}
