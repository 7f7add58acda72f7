import { Option, type Command } from 'commander';
import { createKafka } from '../../kafka/client.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { startSimulatorThread, type SimulatorHandle } from '../../simulator/thread.ts';
import { runEmbedded, type EmbeddedRunOptions } from '../embedded-pipeline.ts';
import { censusOfTopics, formatReport, progressPrinter } from '../run-report.ts';
import { brokerList, defaultBrokers, port, positiveInteger } from '../option-parsers.ts';
import { runInterruptible } from '../signals.ts';

interface EmbeddedCommandOptions {
  brokers: string[];
  mode: 'exactly-once' | 'at-least-once';
  timeout: number;
  metricsPort: number;
}

/** Shared by `demo` and `replay`: run, show progress on a terminal, then print what reached Kafka. */
export async function runEmbeddedCommand(
  simulator: EmbeddedRunOptions['simulator'],
  options: EmbeddedCommandOptions,
  label: string,
  startSimulator?: EmbeddedRunOptions<SimulatorHandle>['startSimulator'],
): Promise<void> {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });
  const brokers = options.brokers;
  const topicPrefix = `${label}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}.`;
  const result = await runInterruptible(
    (signal) =>
      runEmbedded<SimulatorHandle>({
        simulator,
        ...(startSimulator === undefined ? {} : { startSimulator }),
        brokers,
        deliveryMode: options.mode,
        topicPrefix,
        timeoutMs: options.timeout * 1000,
        metricsPort: options.metricsPort,
        logger,
        signal,
        onProgress: progressPrinter(process.stdout.isTTY),
      }),
    (run) => run,
    `${label} interrupted before the backlog was collected`,
  );
  if (result === undefined) return;
  const census = await censusOfTopics(createKafka({ clientId: `${label}-census`, brokers, logger }), result.config.kafka.topics);
  process.stdout.write(formatReport(result, census));
  process.exitCode = result.caughtUp && result.drained ? 0 : 1;
}

export function addEmbeddedOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--brokers <list>', 'Kafka bootstrap servers ($KAFKA_BROKERS, else 127.0.0.1:$KAFKA_PORT, else 127.0.0.1:19092)')
        .argParser(brokerList)
        .default(brokerList(defaultBrokers()), defaultBrokers()),
    )
    .addOption(new Option('--mode <mode>', 'delivery mode').choices(['exactly-once', 'at-least-once']).default('exactly-once'))
    .option('--timeout <seconds>', 'give up waiting for the backlog after this long', positiveInteger, 300)
    .option('--metrics-port <port>', 'port for /metrics and /status while it runs (0 picks a free one)', port, 9464);
}

export function registerDemoCommand(program: Command): void {
  addEmbeddedOptions(
    program
      .command('demo')
      .description('Simulated tenants → connector → Kafka: collects a 7-day synthetic backlog, then shows what arrived.')
      .option('--tenants <n>', 'healthy synthetic tenants', positiveInteger, 3)
      .option('--seed <seed>', 'seed of the synthetic data', '1')
      .option('--events-per-hour <n>', 'synthetic events per tenant per hour', positiveInteger, 60)
      .option('--no-audit-disabled-tenant', 'leave out the tenant whose audit log is off'),
  ).action(async (options: EmbeddedCommandOptions & { tenants: number; seed: string; eventsPerHour: number; auditDisabledTenant: boolean }) => {
    const healthy = Array.from({ length: options.tenants }, () => ({ scenario: 'healthy' as const }));
    const tenants = options.auditDisabledTenant ? [...healthy, { scenario: 'audit-disabled' as const }] : healthy;
    // The simulator on its own thread, beside the connector, as Microsoft's service would be.
    await runEmbeddedCommand({ seed: options.seed, tenants, eventsPerHour: options.eventsPerHour }, options, 'demo', startSimulatorThread);
  });
}
