import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.ts';
import { handleInstanceDiscovery, handleJwks, handleOpenIdConfiguration } from './entra/metadata.ts';
import { handleToken } from './entra/token-endpoint.ts';
import { FEED_PATH, feedEndpoint, handleFeed } from './api/feed.ts';
import { afError, Query, sendJson } from './http-util.ts';
import type { EndpointName } from './stats.ts';

interface Routed {
  endpoint: EndpointName;
  tenantId: string | undefined;
  run: () => Promise<number> | number;
}

/** Maps a request to its handler. One origin serves both the login authority and the API, as §0 hosts do. */
function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL): Routed {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const feed = FEED_PATH.exec(path);
  if (feed) {
    const [, tenant = '', rest = ''] = feed;
    const endpoint = feedEndpoint(method, rest);
    const publisher = new Query(url.searchParams).get('PublisherIdentifier');
    return { endpoint, tenantId: tenant.toLowerCase(), run: () => handleFeed(ctx, req, res, url, tenant, rest, endpoint, publisher) };
  }
  const token = /^\/([^/]+)\/oauth2\/(v2\.0\/)?token$/.exec(path);
  if (token && method === 'POST') {
    const [, tenant = ''] = token;
    return { endpoint: 'token', tenantId: tenant.toLowerCase(), run: () => handleToken(ctx, req, res, tenant, token[2] === undefined) };
  }
  const oidc = /^\/([^/]+)(\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(path);
  if (oidc && method === 'GET') {
    const [, tenant = ''] = oidc;
    return { endpoint: 'openid-configuration', tenantId: tenant.toLowerCase(), run: () => handleOpenIdConfiguration(ctx, res, tenant, oidc[2] !== undefined) };
  }
  if (/^\/[^/]+\/discovery\/(v2\.0\/)?instance$/.test(path) && method === 'GET') {
    return { endpoint: 'instance-discovery', tenantId: undefined, run: () => handleInstanceDiscovery(ctx, res, url.searchParams.get('authorization_endpoint')?.replace(/\/oauth2\/v2\.0\/authorize$/, '') ?? null) };
  }
  if (/^\/[^/]+\/discovery\/(v2\.0\/)?keys$/.test(path) && method === 'GET') {
    return { endpoint: 'jwks', tenantId: undefined, run: () => handleJwks(ctx, res) };
  }
  return {
    endpoint: 'unknown',
    tenantId: undefined,
    run: () => {
      sendJson(res, ctx.clock, 404, afError('NotFound', `No route for ${method} ${path}.`));
      return 404;
    },
  };
}

/** The request listener: routes, answers, and records the request in stats whatever happened. */
export function createRequestHandler(ctx: SimContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const at = ctx.clock.now();
    const url = new URL(req.url ?? '/', ctx.baseUrl);
    const routed = route(ctx, req, res, url);
    const finish = (status: number): void => {
      ctx.stats.record({
        at,
        endpoint: routed.endpoint,
        tenantId: routed.tenantId,
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        status,
        bearer: req.headers.authorization?.startsWith('Bearer ') === true,
        emptyBearer: /^Bearer\s*$/i.test(req.headers.authorization ?? 'none'),
        publisherIdentifier: new Query(url.searchParams).get('PublisherIdentifier'),
      });
    };
    Promise.resolve()
      .then(routed.run)
      .then(finish, (error: unknown) => {
        ctx.logger.error({ err: error, path: url.pathname }, 'Simulator request failed.');
        if (!res.headersSent) sendJson(res, ctx.clock, 500, afError('AF50000', 'An internal error occurred.  Retry the request.'));
        else res.destroy();
        finish(500);
      });
  };
}
