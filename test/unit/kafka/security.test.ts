import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load.ts';
import { resolveKafkaSecurity } from '../../../src/kafka/security.ts';
import { MINIMAL_YAML } from '../../support/config-fixtures.ts';

function withKafka(kafka: Record<string, unknown>): unknown {
  const raw = parse(MINIMAL_YAML) as { kafka: Record<string, unknown> };
  return { ...raw, kafka: { ...raw.kafka, ...kafka } };
}

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('kafka.tls and kafka.sasl', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafka-security-'));
    await writeFile(join(dir, 'ca.pem'), 'CA PEM\n');
    await writeFile(join(dir, 'client.pem'), 'CERT PEM\n');
    await writeFile(join(dir, 'client-key.pem'), 'KEY PEM\n');
    await writeFile(join(dir, 'password'), 'file-password\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('default to plaintext without SASL', async () => {
    const config = parseConfig(withKafka({}));
    expect(await resolveKafkaSecurity(config.kafka, {})).toEqual({ ssl: false, sasl: undefined });
  });

  it('read the CA, the client certificate and key, and the SASL password from files and the environment', async () => {
    const config = parseConfig(
      withKafka({
        tls: { caFile: join(dir, 'ca.pem'), certificateFile: join(dir, 'client.pem'), privateKey: { file: join(dir, 'client-key.pem') }, serverName: 'kafka.internal' },
        sasl: { mechanism: 'scram-sha-512', username: 'connector', password: { env: 'KAFKA_PASSWORD' } },
      }),
    );
    expect(await resolveKafkaSecurity(config.kafka, { KAFKA_PASSWORD: 'env-password' })).toEqual({
      ssl: { ca: ['CA PEM\n'], cert: 'CERT PEM\n', key: 'KEY PEM', servername: 'kafka.internal' },
      sasl: { mechanism: 'scram-sha-512', username: 'connector', password: 'env-password' },
    });
    const plain = parseConfig(withKafka({ ssl: true, sasl: { mechanism: 'plain', username: 'u', password: { file: join(dir, 'password') } } }));
    expect(await resolveKafkaSecurity(plain.kafka, {})).toEqual({ ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'file-password' } });
  });

  it('refuse PLAIN without TLS, half a client certificate and unknown mechanisms, all at once', () => {
    const found = problems(
      withKafka({ tls: { certificateFile: '/x.pem', sslVersion: 1 }, sasl: { mechanism: 'gssapi', username: 'u', password: { env: 'P' } } }),
    );
    expect(found.join('\n')).toMatch(/sslVersion/);
    expect(found.join('\n')).toMatch(/mechanism/);
    expect(problems(withKafka({ tls: { certificateFile: '/x.pem' } })).join('\n')).toMatch(/both certificateFile and privateKey/);
    expect(problems(withKafka({ sasl: { mechanism: 'plain', username: 'u', password: { env: 'P' } } })).join('\n')).toMatch(/SASL PLAIN sends the password/);
    expect(problems(withKafka({ sasl: { mechanism: 'scram-sha-512', username: 'u', password: { env: 'P' } } }))).toEqual([]);
  });

  it('name the file it cannot read', async () => {
    const config = parseConfig(withKafka({ tls: { caFile: join(dir, 'missing.pem') } }));
    await expect(resolveKafkaSecurity(config.kafka, {})).rejects.toThrow(/missing\.pem/);
  });
});
