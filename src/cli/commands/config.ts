import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile, resolveSecret } from '../../config/load.ts';
import type { ConnectorConfig, SecretSource } from '../../config/schema.ts';
import { probeSpoolDirectory } from '../../source/blob-spool.ts';

/** The metrics port can be bound now (EADDRINUSE, EACCES otherwise). Port 0 always can. */
async function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Problems only visible outside the schema: secrets that do not resolve, files that cannot be read. */
async function environmentProblems(config: ConnectorConfig): Promise<string[]> {
  const problems: string[] = [];
  const check = async (label: string, attempt: () => Promise<unknown>): Promise<void> => {
    try {
      await attempt();
    } catch (error) {
      // Secret problems already name their key; other checks get the label here.
      if (error instanceof ConfigError) problems.push(...error.problems);
      else problems.push(`${label}: ${(error as Error).message}`);
    }
  };
  const secret = async (key: string, source: SecretSource | undefined): Promise<void> => {
    if (source !== undefined) await check(key, () => resolveSecret(source, process.env, key));
  };
  const file = async (key: string, path: string | undefined): Promise<void> => {
    if (path !== undefined) await check(key, () => access(path, constants.R_OK));
  };
  const { auth, endpoints } = config;
  await secret('auth.clientSecret', auth.clientSecret);
  await secret('auth.certificate.privateKey', auth.certificate?.privateKey);
  await file('auth.certificate.certificateFile', auth.certificate?.certificateFile);
  await file('endpoints.caFile', endpoints.caFile);
  // Kafka's TLS files and secrets are read once at start: without these a wrong path shows only in `run`.
  const { tls, sasl } = config.kafka;
  await file('kafka.tls.caFile', tls?.caFile);
  await file('kafka.tls.certificateFile', tls?.certificateFile);
  await secret('kafka.tls.privateKey', tls?.privateKey);
  await secret('kafka.tls.privateKeyPassphrase', tls?.privateKeyPassphrase);
  await secret('kafka.sasl.password', sasl?.password);
  if (config.admin.enabled) {
    await secret('admin.token', config.admin.token);
    await secret('admin.stateSecret', config.admin.stateSecret);
  }
  const { connector } = config;
  await check(connector.spoolDirectory === undefined ? 'connector.spoolDirectory (system temp directory)' : 'connector.spoolDirectory', () =>
    probeSpoolDirectory(connector.spoolDirectory, connector.maxInMemoryBlobBytes),
  );
  return problems;
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Work with configuration files.');
  config
    .command('check')
    .description('Validate a configuration file and the secrets it names; print every problem at once.')
    .argument('<file>', 'configuration file (YAML or JSON)')
    .action(async (file: string) => {
      try {
        const parsed = await loadConfigFile(file);
        const problems = await environmentProblems(parsed);
        if (problems.length > 0) throw new ConfigError(file, problems);
        process.stdout.write(
          `${file} is valid: ${parsed.tenants.length} tenant(s), delivery ${parsed.connector.deliveryMode}, ` +
            `Kafka ${parsed.kafka.brokers.join(',')}, topics ${Object.values(parsed.kafka.topics).join(', ')}\n`,
        );
        // A note, not a problem: `config check` often runs elsewhere than the connector will (CI, a laptop).
        const { metrics } = parsed;
        if (metrics.enabled) {
          await probePort(metrics.host, metrics.port).catch((error: unknown) => {
            process.stdout.write(`Note: metrics.port: ${(error as Error).message} on this machine now; \`run\` here would fail to start.\n`);
          });
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      }
    });
}
