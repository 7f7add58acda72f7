import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigError, resolveSecret } from '../config/load.ts';
import type { ConnectorConfig } from '../config/schema.ts';

export interface KafkaSecurity {
  ssl: boolean | ConnectionOptions;
  sasl: SASLOptions | undefined;
}

/** Reads the CA, client certificate and secrets that kafka.tls and kafka.sasl name, once at start. */
export async function resolveKafkaSecurity(kafka: ConnectorConfig['kafka'], env: NodeJS.ProcessEnv): Promise<KafkaSecurity> {
  const { tls, sasl } = kafka;
  let ssl: boolean | ConnectionOptions = kafka.ssl;
  if (tls !== undefined) {
    ssl = {
      ...(tls.caFile === undefined ? {} : { ca: [await readPem(tls.caFile)] }),
      ...(tls.certificateFile === undefined ? {} : { cert: await readPem(tls.certificateFile) }),
      ...(tls.privateKey === undefined ? {} : { key: await resolveSecret(tls.privateKey, env, 'kafka.tls.privateKey') }),
      ...(tls.privateKeyPassphrase === undefined ? {} : { passphrase: await resolveSecret(tls.privateKeyPassphrase, env, 'kafka.tls.privateKeyPassphrase') }),
      ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    };
  }
  if (sasl === undefined) return { ssl, sasl: undefined };
  const password = await resolveSecret(sasl.password, env, 'kafka.sasl.password');
  return { ssl, sasl: { mechanism: sasl.mechanism, username: sasl.username, password } as SASLOptions };
}

async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError('kafka.tls', [`cannot read ${file}: ${(error as Error).message}`]);
  }
}
