import { X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, type INetworkModule, type NodeAuthOptions } from '@azure/msal-node';
import { ConnectorError } from '../../contracts/errors.ts';
import type { TenantEndpoints } from './endpoints.ts';
import { TokenEndpointError } from './msal-network.ts';

/** Gives a bearer token for one tenant, cached and renewed shortly before expiry. */
export interface TokenProvider {
  /** `forceRefresh` after the API answered 401 for a token msal still considered valid. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

export type ClientCredential =
  | { kind: 'secret'; clientSecret: string }
  | { kind: 'certificate'; privateKeyPem: string; certificatePem: string };

export interface MsalTokenProviderOptions {
  clientId: string;
  credential: ClientCredential;
  endpoints: TenantEndpoints;
  networkClient: INetworkModule;
}

/**
 * Authority metadata given up front, so msal needs no discovery round trip (and none to a host we did
 * not configure): the v2 endpoints derive from the authority by Entra ID's fixed layout.
 */
function authorityMetadata(authority: string): string {
  return JSON.stringify({
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
  });
}

function credentialOptions(credential: ClientCredential): Pick<NodeAuthOptions, 'clientSecret' | 'clientCertificate'> {
  if (credential.kind === 'secret') return { clientSecret: credential.clientSecret };
  const certificate = new X509Certificate(credential.certificatePem);
  return {
    clientCertificate: {
      thumbprintSha256: certificate.fingerprint256.replaceAll(':', ''),
      privateKey: credential.privateKeyPem,
    },
  };
}

/** msal's own renewal offset: a token is replaced this long before it expires. */
const RENEW_BEFORE_EXPIRY_MS = 300_000;

/**
 * The token is kept here and handed out without msal while it has more than five minutes left:
 * msal's cache lookup (authority and scope parsing, cache filtering, logging) cost more CPU than the
 * blob it authorised, on every request. A fetch builds a fresh msal application and drops it after,
 * so an idle tenant holds one string between hourly renewals, not a client with its caches
 * (10,000 tenants per pod). Concurrent callers share one fetch.
 */
export function createMsalTokenProvider(options: MsalTokenProviderOptions & { now?: () => number }): TokenProvider {
  const { endpoints } = options;
  const now = options.now ?? Date.now;
  const credential = credentialOptions(options.credential);
  let cached: { token: string; renewAtMs: number } | undefined;
  let fetching: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    try {
      // Built per fetch, metadata included: nothing of it is kept per tenant between renewals.
      const auth: NodeAuthOptions = {
        clientId: options.clientId,
        authority: endpoints.authority,
        knownAuthorities: [new URL(endpoints.authority).host],
        authorityMetadata: authorityMetadata(endpoints.authority),
        ...credential,
      };
      const app = new ConfidentialClientApplication({ auth, system: { networkClient: options.networkClient } });
      const result = await app.acquireTokenByClientCredential({ scopes: [endpoints.scope], skipCache: true });
      const token = assertBearer(result?.accessToken, endpoints.tenantId);
      // No expiry given: use it once, fetch again next time.
      const expiresAtMs = result?.expiresOn?.getTime() ?? now();
      cached = { token, renewAtMs: expiresAtMs - RENEW_BEFORE_EXPIRY_MS };
      return token;
    } catch (error) {
      throw mapAuthError(error, endpoints.tenantId);
    } finally {
      fetching = undefined;
    }
  };
  return {
    getToken(request = {}) {
      if (request.forceRefresh === true) cached = undefined;
      if (cached !== undefined && now() < cached.renewAtMs) return Promise.resolve(cached.token);
      fetching ??= fetchToken();
      return fetching;
    },
  };
}

/** The token endpoint answered something that is not a token (redirect, HTML, empty or incomplete JSON). */
export const AUTH_BAD_ANSWER = 'AUTH_BAD_ANSWER';

// RFC 6750 b64token: what a bearer may look like. Anything else (empty, spaces, CR/LF) is never sent.
const BEARER = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The token, or an auth failure when it is empty or malformed: no API call ever carries `Bearer ` alone. */
export function assertBearer(token: string | undefined, tenantId: string): string {
  if (token !== undefined && BEARER.test(token)) return token;
  throw new ConnectorError(AUTH_BAD_ANSWER, `The token endpoint for tenant ${tenantId} returned ${token === undefined || token === '' ? 'no' : 'a malformed'} access token; no API call was made with it`, {
    stage: 'auth',
    retriable: false,
  });
}

/**
 * Entra ID answers with AADSTS codes; the tenant admin needs to know which of a handful of things to
 * fix. Unknown codes stay retriable only when they look like transport or server trouble.
 */
export function mapAuthError(error: unknown, tenantId: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof TokenEndpointError) {
    // Unreachable or a 5xx page heals by itself; a redirect or a body that is no token needs a look at the configuration.
    const transient = error.problem === 'unavailable' || error.problem === 'unreachable';
    return new ConnectorError(transient ? 'AUTH_UNAVAILABLE' : AUTH_BAD_ANSWER, `The token endpoint gave no token: ${error.errorMessage}`, {
      stage: 'auth',
      retriable: transient,
      httpStatus: error.httpStatus,
      cause: error,
    });
  }
  const text = describe(error);
  const aadsts = /AADSTS(\d+)/.exec(text)?.[0];
  const fail = (code: string, message: string, retriable = false): ConnectorError =>
    new ConnectorError(code, `${message} (${aadsts ?? 'no AADSTS code'})`, { stage: 'auth', retriable, cause: error });
  switch (aadsts) {
    case 'AADSTS700016':
    case 'AADSTS650051':
    case 'AADSTS65001':
      return fail('AUTH_CONSENT_MISSING', `The application is not consented in tenant ${tenantId}: a tenant admin must grant admin consent for ActivityFeed.Read`);
    case 'AADSTS7000215':
    case 'AADSTS7000222':
      return fail('AUTH_BAD_SECRET', 'The client secret was rejected (wrong or expired): rotate it and update the secret');
    case 'AADSTS700027':
    case 'AADSTS700024':
      return fail('AUTH_BAD_CERTIFICATE', 'The certificate assertion was rejected: check the certificate registered for the application');
    case 'AADSTS90002':
    case 'AADSTS90072':
      return fail('AUTH_UNKNOWN_TENANT', `Tenant ${tenantId} was not found by Entra ID: check the tenant id and cloud`);
    case undefined:
      break;
    default:
      return fail('AUTH_FAILED', `Token request failed: ${text.slice(0, 300)}`);
  }
  if (/ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket|network|timeout|5\d\d/i.test(text)) {
    return new ConnectorError('AUTH_UNAVAILABLE', `Token endpoint unreachable: ${text.slice(0, 300)}`, {
      stage: 'auth',
      retriable: true,
      cause: error,
    });
  }
  return new ConnectorError('AUTH_FAILED', `Token request failed: ${text.slice(0, 300)}`, { stage: 'auth', retriable: false, cause: error });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const extra = error as Error & { errorCode?: string; errorMessage?: string; subError?: string };
    return [extra.errorCode, extra.errorMessage, extra.subError, error.message].filter(Boolean).join(' ');
  }
  return String(error);
}
