import type { RegistryListener, RemovalListener, TenantRecord, TenantRegistry } from '../contracts/tenant-registry.ts';

/** The registry in memory: unit tests and `demo`. Same notification rules as the Kafka one. */
export class MemoryTenantRegistry implements TenantRegistry {
  readonly #records = new Map<string, TenantRecord>();
  readonly #changes: RegistryListener[] = [];
  readonly #removals: RemovalListener[] = [];

  constructor(initial: readonly TenantRecord[] = []) {
    for (const record of initial) this.#records.set(record.id, structuredClone(record));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  list(): TenantRecord[] {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  ids(): string[] {
    return [...this.#records.keys()];
  }

  get(tenantId: string): TenantRecord | undefined {
    const record = this.#records.get(tenantId.toLowerCase());
    return record === undefined ? undefined : structuredClone(record);
  }

  put(record: TenantRecord): Promise<TenantRecord> {
    const previous = this.#records.get(record.id);
    const stored = { ...structuredClone(record), revision: (previous?.revision ?? 0) + 1 };
    this.#records.set(record.id, stored);
    for (const listener of this.#changes) listener(structuredClone(stored), previous);
    return Promise.resolve(structuredClone(stored));
  }

  remove(tenantId: string): Promise<void> {
    if (this.#records.delete(tenantId)) for (const listener of this.#removals) listener(tenantId);
    return Promise.resolve();
  }

  onChange(listener: RegistryListener): void {
    this.#changes.push(listener);
  }

  onRemove(listener: RemovalListener): void {
    this.#removals.push(listener);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
