import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile, resolveSecret } from '../../config/load.ts';
import type { ConnectorConfig } from '../../config/schema.ts';

/** Problems only visible outside the schema: secrets that do not resolve, files that cannot be read. */
async function environmentProblems(config: ConnectorConfig): Promise<string[]> {
  const problems: string[] = [];
  const check = async (label: string, attempt: () => Promise<unknown>): Promise<void> => {
    try {
      await attempt();
    } catch (error) {
      const detail = error instanceof ConfigError ? error.problems.join('; ') : (error as Error).message;
      problems.push(`${label}: ${detail}`);
    }
  };
  const { auth, endpoints } = config;
  if (auth.clientSecret !== undefined) await check('auth.clientSecret', () => resolveSecret(auth.clientSecret!));
  if (auth.certificate !== undefined) {
    await check('auth.certificate.privateKey', () => resolveSecret(auth.certificate!.privateKey));
    await check('auth.certificate.certificateFile', () => access(auth.certificate!.certificateFile));
  }
  if (endpoints.caFile !== undefined) await check('endpoints.caFile', () => access(endpoints.caFile!));
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
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      }
    });
}
