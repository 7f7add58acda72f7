import type { CloudName } from '../config/clouds.ts';
import type { Cursor } from './checkpoint.ts';
import type { ConnectionStatus, HistoryEntry } from '../lifecycle/state-machine.ts';

/** What an operator wants for a tenant; the status is what the connector observed. */
export const DESIRED_STATES = ['active', 'paused', 'deauthorized'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** Where collection starts for a tenant upgraded from the legacy connector (docs/lifecycle.md). */
export interface LegacyPosition {
  /** ISO 8601: every blob the legacy connector listed before this was collected by it. */
  lastCollectedTime: string;
  /** contentIds the legacy connector already collected at or after lastCollectedTime − overlap. */
  lastContentIds: string[];
  importedAt: string;
}

/** A maintenance (upgrade) window: the tenant shows Maintenance from `from` until the upgrade ends, at `to` at the latest. */
export interface MaintenanceWindow {
  from: string;
  to: string;
}

/** One tenant in the registry (key = tenant id, lower-case GUID). */
export interface TenantRecord {
  id: string;
  displayName: string;
  cloud: CloudName;
  plan: string;
  requestsPerMinute?: number;
  desiredState: DesiredState;
  /** Who created the record: the config file's seed or the admin API. */
  origin: 'config' | 'api' | 'legacy-import';
  createdAt: string;
  updatedAt: string;
  deauthorizedAt?: string;
  /** The cursor as it was when the tenant was deauthorized (the cursor record itself is tombstoned); a resume starts here. */
  parkedCursor?: Cursor;
  legacy?: LegacyPosition;
  maintenance?: MaintenanceWindow;
  status: ConnectionStatus;
  history: HistoryEntry[];
  /** Bumped by every put; a watcher ignores a record older than the one it holds. */
  revision: number;
}

export type RegistryListener = (record: TenantRecord, previous: TenantRecord | undefined) => void;
export type RemovalListener = (tenantId: string) => void;

/**
 * The source of truth for which tenants exist and what is wanted of them. Implementations: a
 * compacted Kafka topic (src/kafka/registry.ts) and an in-memory map (tests).
 */
export interface TenantRegistry {
  /** Reads every record (may block until the store is reachable); listeners see later changes only. */
  start(): Promise<void>;
  list(): TenantRecord[];
  /** The tenant ids only: no record copies (a sweep over 10,000 tenants every minute). */
  ids(): string[];
  get(tenantId: string): TenantRecord | undefined;
  /** Stores the record with the next revision; resolves once durable, listeners called before it resolves. */
  put(record: TenantRecord): Promise<TenantRecord>;
  /** Purges a record (a tombstone on Kafka). */
  remove(tenantId: string): Promise<void>;
  onChange(listener: RegistryListener): void;
  onRemove(listener: RemovalListener): void;
  /** Safe twice and before start. */
  stop(): Promise<void>;
}
