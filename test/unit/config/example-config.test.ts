import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/load.ts';

const EXAMPLE = fileURLToPath(new URL('../../../config/example.yaml', import.meta.url));

describe('config/example.yaml (the documented example stays valid)', () => {
  it('passes the schema with the settings it shows', async () => {
    const config = await loadConfigFile(EXAMPLE);
    expect(config.connector.deliveryMode).toBe('exactly-once');
    expect(config.auth.clientSecret).toEqual({ env: 'ONEDRIVE_CONNECTOR_CLIENT_SECRET' });
    expect(config.tenants).toHaveLength(1);
    expect(config.kafka.topics.publishedIds).toBe('onedrive.published-ids.v1');
  });
});
