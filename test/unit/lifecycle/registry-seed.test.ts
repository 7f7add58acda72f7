import { describe, expect, it } from 'vitest';
import { MemoryTenantRegistry } from '../../../src/lifecycle/memory-registry.ts';
import { newTenantRecord, seedRegistry } from '../../../src/lifecycle/records.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('seeding the registry from the config file', () => {
  it('adds missing tenants at Initializing and leaves the ones the registry holds as they are', async () => {
    const paused = { ...newTenantRecord({ id: A, displayName: 'Renamed by API', cloud: 'commercial', plan: 'E5' }, 'api', T0), desiredState: 'paused' as const };
    const registry = new MemoryTenantRegistry([paused]);
    const seeded = await seedRegistry(
      registry,
      [
        { id: A, displayName: 'From file', cloud: 'gcc', plan: 'E3' },
        { id: B.toUpperCase(), cloud: 'commercial', plan: 'Business' },
      ],
      T0 + 1000,
    );
    expect(seeded).toEqual([B]);
    expect(registry.get(A)).toMatchObject({ displayName: 'Renamed by API', cloud: 'commercial', desiredState: 'paused', origin: 'api' });
    expect(registry.get(B)).toMatchObject({ origin: 'config', desiredState: 'active', status: { state: 'Initializing', reason: 'consent-granted' }, revision: 1 });
    expect(registry.get(B)?.history).toEqual([{ at: new Date(T0 + 1000).toISOString(), from: 'PendingConsent', to: 'Initializing', reason: 'consent-granted' }]);
    expect(await seedRegistry(registry, [{ id: B, cloud: 'commercial', plan: 'E5' }], T0 + 2000)).toEqual([]);
    expect(registry.ids().sort()).toEqual([A, B]);
  });
});
