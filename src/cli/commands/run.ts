import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from '../../config/load.ts';
import { createConnector } from '../../runtime/connector.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { exitNow, exitSoon, onShutdownSignals } from '../signals.ts';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run the connector: poll every configured tenant and publish file events to Kafka until SIGTERM.')
    .requiredOption('-c, --config <file>', 'configuration file (YAML or JSON); secrets come from env vars or files it names')
    .addHelpText(
      'after',
      '\nSIGTERM/SIGINT stops new work, drains in-flight deliveries within connector.shutdownTimeoutSeconds and\ncommits only what Kafka acknowledged; a second signal exits at once.',
    )
    .action(async (options: { config: string }) => {
      let config;
      try {
        config = await loadConfigFile(options.config);
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(`${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      }
      const logger = createLogger({ level: config.log.level });
      const connector = await createConnector(config, { logger });
      let stopRequested: (() => void) | undefined;
      const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
      const release = onShutdownSignals((signal) => {
        logger.info({ signal }, 'Shutdown requested');
        stopRequested?.();
      });
      let startOutcome: 'started' | 'stop-requested';
      try {
        startOutcome = await Promise.race([connector.start().then(() => 'started' as const), stopped.then(() => 'stop-requested' as const)]);
      } catch (error) {
        // A start that fails half-way (Kafka unreachable, cursors unreadable) has opened the status
        // server and clients: close them, or the process stays up forever doing nothing, /healthz green.
        await connector.stop();
        release();
        exitSoon(1);
        throw error;
      }
      if (startOutcome === 'stop-requested') {
        // Stopped while still starting (fencing, reading cursors and published ids): nothing was listed
        // or published yet, so there is nothing to drain; close what start opened and leave now.
        logger.info('Stopped before start-up finished; nothing was collected in this run');
        await connector.stop();
        release();
        exitNow(0);
      }
      const fatal = await Promise.race([stopped.then(() => undefined), connector.fatal]);
      if (fatal !== undefined) logger.fatal({ code: fatal.code, err: fatal.message }, 'Cannot continue');
      const { drained } = await connector.stop();
      release();
      // Past the deadline, deliveries may still hold sockets and timers open: leave without them.
      // Nothing they do can be lost: only acknowledged work was ever committed.
      if (!drained) exitNow(1);
      process.exitCode = fatal !== undefined ? 2 : 0;
    });
}
