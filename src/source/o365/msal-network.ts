import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { request, type Dispatcher } from 'undici';
import { withoutQuery } from './url-check.ts';

/** What was wrong with the token endpoint's answer; mapped to a ConnectorError code in token-provider.ts. */
export type TokenAnswerProblem = 'redirect' | 'not-a-token' | 'unavailable' | 'unreachable';

/**
 * A token endpoint answer that is not a token. Extends msal's AuthError because msal passes AuthErrors
 * through unchanged (anything else becomes a bare "network_error" and the reason is lost).
 */
export class TokenEndpointError extends AuthError {
  readonly problem: TokenAnswerProblem;
  readonly httpStatus: number | undefined;

  constructor(problem: TokenAnswerProblem, message: string, httpStatus?: number) {
    super(`token_endpoint_${problem.replace('-', '_')}`, '', message);
    // AuthError resets the prototype to its own; instanceof must still see this class.
    Object.setPrototypeOf(this, TokenEndpointError.prototype);
    this.name = 'TokenEndpointError';
    this.problem = problem;
    this.httpStatus = httpStatus;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns one answer into what msal may see. msal-node treats whatever comes back as a token response
 * (a 307 with an empty body became a "token" of ''), so only a 2xx JSON object goes through — for the
 * token endpoint only one with a non-empty `access_token`. Entra's JSON errors are thrown as AuthErrors
 * carrying their AADSTS text; redirects, HTML pages and empty or cut bodies as TokenEndpointErrors.
 */
export function screenAnswer(url: string, status: number, headers: Record<string, string>, text: string, isTokenRequest: boolean): unknown {
  const where = withoutQuery(url);
  if (status >= 300 && status < 400) {
    const location = headers['location'];
    throw new TokenEndpointError('redirect', `${where} answered HTTP ${status}${location === undefined ? '' : ` redirecting to ${withoutQuery(location)}`}; redirects are never followed`, status);
  }
  const body = parseJson(text);
  if (status >= 200 && status < 300) {
    const token = isObject(body) ? body['access_token'] : undefined;
    if (!isObject(body) || (isTokenRequest && (typeof token !== 'string' || token === ''))) {
      const what = text.trim() === '' ? 'an empty body' : !isObject(body) ? 'a body that is not JSON' : 'JSON without access_token';
      throw new TokenEndpointError('not-a-token', `${where} answered HTTP ${status} with ${what}`, status);
    }
    return body;
  }
  if (isObject(body) && typeof body['error'] === 'string') {
    const description = typeof body['error_description'] === 'string' ? body['error_description'] : '';
    throw new AuthError(body['error'], '', description.slice(0, 500));
  }
  const problem: TokenAnswerProblem = status >= 500 || status === 429 || status === 408 ? 'unavailable' : 'not-a-token';
  const type = headers['content-type'] ?? 'no content type';
  throw new TokenEndpointError(problem, `${where} answered HTTP ${status} (${type}) without an Entra ID error`, status);
}

/**
 * msal-node's HTTP calls (token, and discovery if it ever needs it) through our undici pool, so they
 * honour the same CA (the simulator's, in tests) and timeouts as the API calls. undici's request()
 * follows no redirect, and an answer that is not a usable JSON body becomes an error here, before msal.
 */
export function msalNetworkClient(dispatcher: Dispatcher, timeoutMs: number): INetworkModule {
  async function send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(url, {
        method,
        dispatcher,
        headers: options?.headers ?? {},
        body: options?.body ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await response.body.text();
    } catch (error) {
      throw new TokenEndpointError('unreachable', `${withoutQuery(url)} could not be reached: ${(error as Error).message}`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const body = screenAnswer(url, response.statusCode, headers, text, method === 'POST');
    return { headers, body: body as T, status: response.statusCode };
  }
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
