import type { SimContext } from '../context.ts';
import type { BlobEntry } from '../data/catalog.ts';
import type { Query } from '../http-util.ts';
import { rngFor } from '../prng.ts';
import { isListed, type Tenant } from '../tenants.ts';
import { AF } from './errors.ts';
import type { Answer } from './subscriptions.ts';
import { formatListingTime, resolveWindow, RETENTION_MS } from './time-window.ts';

export type ListingKind = 'content' | 'notifications';

const PAGE_TOKEN = /^(\d{13})R(\d{9})$/;

/** The absolute contentUri of a blob (o365-api.md §1.8): `$` stays unescaped in the path. */
export function contentUri(ctx: SimContext, tenant: Tenant, contentId: string): string {
  const faults = ctx.faults.get(tenant.id);
  const origin = faults.foreignContentUriOrigin ?? ctx.baseUrl;
  // Path tricks aim at another tenant's feed on the same host: a token must never follow them.
  switch (faults.contentUriPathTrick) {
    case 'encoded-slash':
      return `${origin}/api/v1.0/${tenant.id}/activity/feed/..%2F..%2F..%2F${OTHER_TENANT}%2Factivity%2Ffeed%2Faudit/${contentId}`;
    case 'dot-segment':
      return `${origin}/api/v1.0/${tenant.id}/activity/feed/audit/../../../${OTHER_TENANT}/activity/feed/audit/${contentId}`;
    default:
      return `${origin}/api/v1.0/${tenant.id}/activity/feed/audit/${contentId}`;
  }
}

/** The tenant the path tricks point at (no tenant of the simulator has this id). */
export const OTHER_TENANT = '00000000-0000-4000-8000-0000000000ff';

/** Blobs a listing shows, in availability order (§1.7 "in the order in which the aggregations become available"). */
function visibleBlobs(tenant: Tenant, contentType: string, startMs: number, endMs: number, asOfMs: number): BlobEntry[] {
  if (contentType !== 'Audit.SharePoint') return [];
  return tenant.catalog
    .blobsBetween(startMs, endMs)
    .filter((b) => isListed(tenant, contentType, b, asOfMs) && b.contentCreated + RETENTION_MS > asOfMs)
    .sort((a, b) => a.availableAt - b.availableAt || a.contentCreated - b.contentCreated || (a.contentId < b.contentId ? -1 : 1));
}

/**
 * GET subscriptions/content and subscriptions/notifications (§1.7, §1.10): window rules (AF20055),
 * [start, end) on contentCreated, pages of `pageSize` with a `NextPageUri` header whose parameter
 * names are sometimes lower-cased (seeded; filebeat-o365.md §1.9), plus the listing faults.
 */
export function listContent(ctx: SimContext, tenant: Tenant, contentType: string, query: Query, kind: ListingKind, requestUrl: URL): Answer & { headers?: Record<string, string> } {
  const now = ctx.clock.now();
  const startText = query.get('startTime');
  const endText = query.get('endTime');
  const window = resolveWindow(startText, endText, now, ctx.settings.retentionSlackMs);
  if (!window.ok) return window.code === 'AF20055' ? { status: 400, code: 'AF20055', message: window.message } : AF.invalidParameterType(window.message);

  if (ctx.faults.take(tenant.id, 'invalidWindow')) {
    return { status: 400, code: 'AF20055', message: 'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.' };
  }
  const pageParam = query.get('nextPage');
  let asOf = now;
  let offset = 0;
  if (pageParam !== undefined) {
    const match = PAGE_TOKEN.exec(pageParam);
    if (!match || Number(match[1]) > now) return AF.invalidNextPage(pageParam);
    asOf = Number(match[1]);
    offset = Number(match[2]);
  }
  const faults = ctx.faults.get(tenant.id);
  const bounds = window.explicit ? { start: startText ?? '', end: endText ?? '' } : { start: formatListingTime(window.startMs), end: formatListingTime(window.endMs) };
  const pageUri = (token: string): string => nextPageUri(ctx, tenant, kind, contentType, bounds, token);

  if (ctx.faults.take(tenant.id, 'emptyPagesWithNextPage')) {
    return { status: 200, body: [], headers: { NextPageUri: pageUri(pageToken(asOf, offset)) } };
  }
  const sub = tenant.subscriptions.get(contentType);
  const blobs = kind === 'notifications' && !sub?.webhook ? [] : visibleBlobs(tenant, contentType, window.startMs, window.endMs, asOf);
  const page = blobs.slice(offset, offset + ctx.settings.pageSize);
  const body = page.map((b) => {
    const item: Record<string, unknown> = {
      contentType,
      contentId: b.contentId,
      contentUri: contentUri(ctx, tenant, b.contentId),
      contentCreated: formatListingTime(b.contentCreated),
      contentExpiration: formatListingTime(b.contentCreated + RETENTION_MS),
    };
    if (kind === 'notifications') {
      item['tenantId'] = tenant.id;
      item['clientId'] = ctx.clientId;
      item['notificationSent'] = formatListingTime(b.availableAt + 60_000);
      item['notificationStatus'] = 'success';
    }
    return item;
  });
  const headers: Record<string, string> = {};
  if (faults.loopingNextPage === true) {
    headers['NextPageUri'] = faults.foreignNextPageUriOrigin === undefined ? requestUrl.href.replace(requestUrl.origin, ctx.baseUrl) : requestUrl.href.replace(requestUrl.origin, faults.foreignNextPageUriOrigin);
  } else if (offset + page.length < blobs.length) {
    headers['NextPageUri'] = pageUri(pageToken(asOf, offset + page.length));
  }
  return { status: 200, body, headers };
}

function pageToken(asOf: number, offset: number): string {
  return `${asOf}R${String(offset).padStart(9, '0')}`;
}

function nextPageUri(ctx: SimContext, tenant: Tenant, kind: ListingKind, contentType: string, bounds: { start: string; end: string }, token: string): string {
  const origin = ctx.faults.get(tenant.id).foreignNextPageUriOrigin ?? ctx.baseUrl;
  const lower = rngFor(ctx.seed, tenant.id, 'next-page-case', token).chance(ctx.settings.lowercaseNextPageProbability);
  const name = (n: string): string => (lower ? n.toLowerCase() : n);
  const params = new URLSearchParams();
  params.set(name('contentType'), contentType);
  params.set(name('startTime'), bounds.start);
  params.set(name('endTime'), bounds.end);
  params.set(name('nextPage'), token);
  return `${origin}/api/v1.0/${tenant.id}/activity/feed/subscriptions/${kind}?${params.toString()}`;
}
