import { MockAgent } from 'undici';
import type { MockInterceptor } from 'undici/types/mock-interceptor.js';

/** One request as the fake host saw it. */
export interface SeenRequest {
  origin: string;
  method: string;
  path: string;
  url: URL;
  headers: Record<string, string>;
}

export type Reply = MockInterceptor.MockReplyOptions;
export type Responder = (request: SeenRequest) => Reply;

function normaliseHeaders(raw: MockInterceptor.MockResponseCallbackOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  const entries: Iterable<[string, string]> =
    typeof (raw as Headers).entries === 'function' && !Array.isArray(raw) ? (raw as Headers).entries() : Object.entries(raw as Record<string, string>);
  for (const [name, value] of entries) out[name.toLowerCase()] = String(value);
  return out;
}

/**
 * A scripted HTTP host on an undici MockAgent with net connect disabled: every request to the host is
 * recorded and answered by the next scripted responder (in order). A request with nothing scripted
 * gets a 599 so the test fails loudly instead of hanging.
 */
export class FakeHost {
  readonly requests: SeenRequest[] = [];
  readonly origin: string;
  readonly #script: Responder[] = [];

  constructor(agent: MockAgent, origin: string) {
    this.origin = origin;
    agent
      .get(origin)
      .intercept({ path: () => true, method: () => true })
      .reply((options) => {
        const url = new URL(options.path, origin);
        const seen: SeenRequest = { origin, method: options.method, path: options.path, url, headers: normaliseHeaders(options.headers) };
        this.requests.push(seen);
        const next = this.#script.shift();
        return next === undefined ? { statusCode: 599, data: 'nothing scripted' } : next(seen);
      })
      .persist();
  }

  /** Answers the next request(s), in order. */
  answer(...responders: Responder[]): this {
    this.#script.push(...responders);
    return this;
  }

  get unanswered(): number {
    return this.#script.length;
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): Responder {
  return () => ({ statusCode, data: JSON.stringify(body), responseOptions: { headers: { 'content-type': 'application/json; charset=utf-8', ...headers } } });
}

export function apiError(statusCode: number, code: string, message: string, headers: Record<string, string> = {}): Responder {
  return json(statusCode, { error: { code, message } }, headers);
}

export function newMockAgent(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return agent;
}
