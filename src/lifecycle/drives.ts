import type { DriveType, FileEvent } from '../contracts/file-event.ts';
import type { KeyedRecord } from '../contracts/sink.ts';

/** The record announced once per drive on the compacted drives topic (key = drive key). */
export interface DriveDiscovered {
  key: string;
  type: DriveType;
  /** Personal drives: the owner's UPN when the connector could derive it. */
  owner: string | null;
  siteUrl: string | null;
  /** The `@timestamp` of the first event seen on the drive. */
  firstSeen: string;
  tenantId: string;
}

/**
 * A stable key per drive: a personal OneDrive by its `/personal/<segment>/` (stable while the user
 * exists), a site library by `spo:<Site>:<WebId>:<ListId>` when the record names it, else by its site.
 */
export function driveKey(event: FileEvent): string | undefined {
  const tenant = event.o365.tenantId;
  if (event.o365.driveType === 'personal' && event.o365.personalSiteSegment !== null) return `${tenant}|personal|${event.o365.personalSiteSegment}`;
  if (event.file.cloudDriveId !== null) return `${tenant}|${event.file.cloudDriveId}`;
  if (event.o365.siteUrl !== null) return `${tenant}|site|${event.o365.siteUrl.toLowerCase().replace(/\/+$/, '')}`;
  return undefined;
}

/**
 * Which drives were announced already. Records for a drive seen for the first time join the unit of
 * the blob that carries its first events (SideRecordHooks.forEvents), so the index learns about the
 * drive in the same transaction as the events. Loaded from the drives topic at start, so a restart
 * announces no known drive again. A drive is marked as soon as its record is handed to a unit: if that
 * unit's group then fails, the drive is announced again only after a restart (the topic is the truth).
 */
export class DriveIndex {
  readonly #known = new Set<string>();
  readonly #topic: string;
  readonly #onDiscovered: (drive: DriveDiscovered) => void;

  constructor(topic: string, onDiscovered: (drive: DriveDiscovered) => void) {
    this.#topic = topic;
    this.#onDiscovered = onDiscovered;
  }

  /** A key read back from the drives topic at start. */
  remember(key: string): void {
    this.#known.add(key);
  }

  get size(): number {
    return this.#known.size;
  }

  forEvents(_tenantId: string, events: readonly FileEvent[]): KeyedRecord[] {
    const records: KeyedRecord[] = [];
    for (const event of events) {
      const key = driveKey(event);
      if (key === undefined || this.#known.has(key)) continue;
      this.#known.add(key);
      const drive: DriveDiscovered = { key, type: event.o365.driveType, owner: event.file.owner, siteUrl: event.o365.siteUrl, firstSeen: event['@timestamp'], tenantId: event.o365.tenantId };
      records.push({ topic: this.#topic, key, value: JSON.stringify(drive), headers: { 'content-type': 'application/json', 'tenant-id': drive.tenantId } });
      this.#onDiscovered(drive);
    }
    return records;
  }
}
