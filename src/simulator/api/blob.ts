import type { ServerResponse } from 'node:http';
import type { SimContext } from '../context.ts';
import type { BlobEntry, ServedRecord } from '../data/catalog.ts';
import { serviceHeaders } from '../http-util.ts';
import { isListed, type Tenant } from '../tenants.ts';
import { AF } from './errors.ts';
import { requireEnabled, type Answer } from './subscriptions.ts';
import { RETENTION_MS } from './time-window.ts';

const CHUNK_CHARS = 64 * 1024;

/** How one download is damaged, decided before the first byte. */
interface BodyPlan {
  resetAfterBytes: number | undefined;
  truncateAfterBytes: number | undefined;
  stallAfterBytes: number | undefined;
  corruptIndex: number | undefined;
}

/**
 * Checks for GET …/activity/feed/audit/{contentId} (o365-api.md §1.8): an enabled subscription, a blob
 * that exists and is listed (AF20050, 404), not past contentCreated + 7 days (AF20051, 400; §2.5).
 * Returns the blob to stream, or the answer to send instead.
 */
export function resolveBlob(ctx: SimContext, tenant: Tenant, contentId: string): { entry: BlobEntry } | { answer: Answer } {
  const refused = requireEnabled(tenant, 'Audit.SharePoint');
  if (refused) return { answer: refused };
  const now = ctx.clock.now();
  const entry = tenant.catalog.find(contentId);
  if (!entry || !isListed(tenant, 'Audit.SharePoint', entry, now)) return { answer: AF.contentNotFound(contentId) };
  if (entry.contentCreated + RETENTION_MS <= now || ctx.faults.get(tenant.id).expiredContent === true) return { answer: AF.contentExpired(contentId) };
  return { entry };
}

function planBody(ctx: SimContext, tenant: Tenant, entry: BlobEntry): BodyPlan {
  let resetAfterBytes = ctx.faults.takeBytes(tenant.id, 'resetBlobs');
  if (resetAfterBytes === undefined && tenant.scenario === 'faulty' && tenant.faultRng.chance(0.03)) resetAfterBytes = tenant.faultRng.int(1, 4096);
  const truncateAfterBytes = ctx.faults.takeBytes(tenant.id, 'truncateBlobs');
  const stallAfterBytes = ctx.faults.takeBytes(tenant.id, 'stallBlobs');
  let corruptIndex = tenant.catalog.corruptedRecordIndex(entry);
  if (corruptIndex === undefined && ctx.faults.take(tenant.id, 'malformedBlobs')) corruptIndex = -1;
  return { resetAfterBytes, truncateAfterBytes, stallAfterBytes, corruptIndex };
}

/**
 * A record made invalid JSON in a way a tolerant reader can step over: the Operation value loses its
 * quotes, so the braces still balance and the records after it stay intact.
 */
export function corrupt(record: ServedRecord): string {
  const broken = record.json.replace(`"Operation":"${record.operation}"`, `"Operation":${record.operation}`);
  return broken === record.json ? `${record.json.slice(0, -1)},"Broken":}` : broken;
}

/** Resolves on 'drain', or on 'close' when the client went away (then the next flush stops). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streams the blob as `[rec,rec,…]` (after an optional BOM), generating records as the socket drains,
 * so memory stays flat whatever the blob size. Applies reset/truncate/stall/malformed faults.
 */
export async function streamBlob(ctx: SimContext, tenant: Tenant, entry: BlobEntry, res: ServerResponse): Promise<void> {
  // The client gave up while the request was delayed: nothing to send, and no counted fault used up.
  if (res.destroyed || res.socket?.destroyed === true) return;
  const plan = planBody(ctx, tenant, entry);
  res.sendDate = false;
  res.writeHead(200, { ...serviceHeaders(ctx.clock), 'Content-Type': 'application/json; charset=utf-8' });
  const limit = plan.resetAfterBytes ?? plan.truncateAfterBytes ?? plan.stallAfterBytes;
  const pace = ctx.latency?.pacer();
  if (ctx.blobBodies !== undefined && limit === undefined && plan.corruptIndex === undefined) {
    await sendBody(res, blobBody(ctx.blobBodies, tenant, entry), pace);
    return;
  }
  let sent = 0;
  let buffer = tenant.catalog.prefix(entry) + '[';
  let index = 0;

  const flush = async (final: boolean): Promise<boolean> => {
    if (res.destroyed) return false;
    let data = Buffer.from(buffer, 'utf8');
    buffer = '';
    if (limit !== undefined && sent + data.length >= limit) {
      data = data.subarray(0, limit - sent);
      await new Promise<void>((resolve) => res.write(data, () => resolve()));
      if (plan.resetAfterBytes !== undefined) res.socket?.destroy();
      else if (plan.truncateAfterBytes !== undefined) res.end();
      // Stalled: no more bytes; the client's body timeout (or closing the simulator) ends it.
      else await new Promise<void>((resolve) => res.once('close', () => resolve()));
      return false;
    }
    sent += data.length;
    const more = res.write(data);
    if (final) res.end();
    else if (!more) await drained(res);
    await pace?.(sent);
    return true;
  };

  // A per-request malformed fault hits the middle record: count first (a second generation pass, no memory).
  let corruptAt = plan.corruptIndex;
  if (corruptAt === -1) {
    let count = 0;
    for (const _ of tenant.catalog.records(entry)) count++;
    corruptAt = Math.floor(count / 2);
  }
  for (const record of tenant.catalog.records(entry)) {
    buffer += (index > 0 ? ',' : '') + (index === corruptAt ? corrupt(record) : record.json);
    index++;
    if (buffer.length >= CHUNK_CHARS && !(await flush(false))) return;
  }
  buffer += ']';
  await flush(true);
}

/** The undamaged body of a blob, exactly as streamBlob generates it. */
export function generateBody(tenant: Tenant, entry: BlobEntry): Buffer {
  const parts: string[] = [tenant.catalog.prefix(entry), '['];
  let index = 0;
  for (const record of tenant.catalog.records(entry)) parts.push(index++ > 0 ? ',' : '', record.json);
  parts.push(']');
  return Buffer.from(parts.join(''), 'utf8');
}

/** A body kept in memory (blobBodiesInMemory): generated once, then served from the map. */
export function blobBody(bodies: Map<string, Buffer>, tenant: Tenant, entry: BlobEntry): Buffer {
  const key = `${tenant.id}/${entry.contentId}`;
  let body = bodies.get(key);
  if (body === undefined) {
    body = generateBody(tenant, entry);
    bodies.set(key, body);
  }
  return body;
}

async function sendBody(res: ServerResponse, body: Buffer, pace: ((sentBytes: number) => Promise<void>) | undefined): Promise<void> {
  if (pace === undefined) {
    res.end(body);
    return;
  }
  for (let at = 0; at < body.length && !res.destroyed; at += CHUNK_CHARS) {
    const end = Math.min(body.length, at + CHUNK_CHARS);
    if (!res.write(body.subarray(at, end))) await drained(res);
    await pace(end);
  }
  res.end();
}
