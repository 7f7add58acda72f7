import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Config texts shared by the config unit tests and the `config check` command tests. */
export const SECRET_ENV = 'ONEDRIVE_CONNECTOR_TEST_SECRET';
export const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
export const CLIENT_ID = '3f2e1d0c-9b8a-4766-8554-433221100fed';
export const PUBLISHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

export const MINIMAL_YAML = `
connector:
  publisherIdentifier: ${PUBLISHER}
auth:
  clientId: ${CLIENT_ID}
  clientSecret:
    env: ${SECRET_ENV}
tenants:
  - id: ${TENANT}
kafka:
  brokers: [localhost:9092]
`;

/** Five problems at once: unknown key, bad GUID, no brokers, secret and certificate, lookback > 7 days. */
export const BROKEN_YAML = `
connector:
  publisherIdentifier: ${PUBLISHER}
  firstRunLookbackHours: 200
  pollIntervalSecs: 30
auth:
  clientId: ${CLIENT_ID}
  clientSecret:
    env: ${SECRET_ENV}
  certificate:
    privateKey:
      file: /run/secrets/key.pem
    certificateFile: /run/secrets/cert.pem
tenants:
  - id: not-a-guid
kafka:
  clientId: connector
`;

/** A scratch folder for config files; `cleanup` removes it. */
export async function configScratch(prefix: string): Promise<{ directory: string; write(name: string, text: string): Promise<string>; cleanup(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  return {
    directory,
    write: async (name, text) => {
      const path = join(directory, name);
      await writeFile(path, text, 'utf8');
      return path;
    },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}
