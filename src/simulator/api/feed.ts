import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from '../context.ts';
import { afError, Query, readBody, sendJson } from '../http-util.ts';
import type { EndpointName } from '../stats.ts';
import { streamBlob, resolveBlob } from './blob.ts';
import { guard, isApiError, type Refusal } from './guard.ts';
import { listContent } from './listing.ts';
import { canonicalContentType, listSubscriptions, requireEnabled, startSubscription, stopSubscription, type Answer } from './subscriptions.ts';

/** `/api/v1.0/{tenant}/activity/feed/{rest}`; REF's NextPageUri example uses `/api/v1/`, so both are accepted. */
export const FEED_PATH = /^\/api\/v1(?:\.0)?\/([^/]+)\/activity\/feed\/(.+)$/;

export function feedEndpoint(method: string, rest: string): EndpointName {
  if (rest.startsWith('audit/') && method === 'GET') return 'blob';
  const map: Record<string, EndpointName> = {
    'POST subscriptions/start': 'subscriptions-start',
    'POST subscriptions/stop': 'subscriptions-stop',
    'GET subscriptions/list': 'subscriptions-list',
    'GET subscriptions/content': 'subscriptions-content',
    'GET subscriptions/notifications': 'subscriptions-notifications',
  };
  return map[`${method} ${rest}`] ?? 'unknown';
}

function send(ctx: SimContext, res: ServerResponse, answer: Answer | Refusal, extraHeaders: Record<string, string> = {}): number {
  if (isApiError(answer)) {
    sendJson(res, ctx.clock, answer.status, afError(answer.code, answer.message), { ...answer.headers, ...extraHeaders });
  } else {
    sendJson(res, ctx.clock, answer.status, answer.body, extraHeaders);
  }
  return answer.status;
}

/** Serves one activity-API request; returns the HTTP status for stats. */
export async function handleFeed(ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL, tenantSegment: string, rest: string, endpoint: EndpointName, publisher: string | undefined): Promise<number> {
  const query = new Query(url.searchParams);
  if (endpoint === 'unknown') {
    sendJson(res, ctx.clock, 404, afError('NotFound', `No operation ${req.method ?? ''} ${rest}.`));
    return 404;
  }
  const contentTypeParam = query.get('contentType');
  const checked = await guard(ctx, req, endpoint, tenantSegment, publisher, contentTypeParam);
  if ('refusal' in checked) return send(ctx, res, checked.refusal);
  const { tenant } = checked;

  if (endpoint === 'blob') {
    const contentId = decodeURIComponent(rest.slice('audit/'.length));
    const redirect = ctx.faults.get(tenant.id).redirectBlobs;
    if (redirect !== undefined) {
      // As a misconfigured proxy or CDN would: empty body, Location elsewhere. Clients must not follow.
      const location = redirect.location ?? `https://redirected.example.invalid/audit/${encodeURIComponent(contentId)}?sig=secret`;
      res.writeHead(redirect.status, { Location: location, 'Content-Length': '0' }).end();
      return redirect.status;
    }
    const resolved = resolveBlob(ctx, tenant, contentId);
    if ('answer' in resolved) return send(ctx, res, resolved.answer);
    await streamBlob(ctx, tenant, resolved.entry, res);
    return 200;
  }
  if (endpoint === 'subscriptions-list') return send(ctx, res, listSubscriptions(tenant));

  const contentType = canonicalContentType(contentTypeParam);
  if (typeof contentType !== 'string') return send(ctx, res, contentType);
  switch (endpoint) {
    case 'subscriptions-start':
      return send(ctx, res, startSubscription(ctx, tenant, contentType, await readBody(req)));
    case 'subscriptions-stop':
      return send(ctx, res, stopSubscription(ctx, tenant, contentType));
    default: {
      const refused = requireEnabled(tenant, contentType);
      if (refused) return send(ctx, res, refused);
      const answer = listContent(ctx, tenant, contentType, query, endpoint === 'subscriptions-notifications' ? 'notifications' : 'content', url);
      return send(ctx, res, answer, 'headers' in answer ? answer.headers : {});
    }
  }
}
