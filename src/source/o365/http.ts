import { Agent } from 'undici';

export interface HttpAgentOptions {
  /** Extra CA certificates to trust (PEM), e.g. the simulator's. */
  caPem?: string | undefined;
  /** Time to connect and to receive response headers. */
  timeoutMs: number;
  /** Connections per origin; many tenants share one API host, so pooling matters. */
  connectionsPerOrigin?: number;
}

/**
 * One connection pool for every call to Microsoft (tokens, listing, blobs). Keep-alive pooling is what
 * lets hundreds of tenants share a few sockets to manage.office.com.
 */
export function createHttpAgent(options: HttpAgentOptions): Agent {
  return new Agent({
    connections: options.connectionsPerOrigin ?? 64,
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    // A blob body may legitimately take long to stream, but never this long without a byte.
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 30_000,
    ...(options.caPem === undefined ? {} : { connect: { ca: options.caPem } }),
  });
}
