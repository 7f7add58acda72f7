/**
 * The one error type of the connector. Third-party errors are mapped into it once, where they enter
 * (HTTP client, msal, kafkajs); everything above that boundary reads only `code`, `retriable` and `stage`.
 * Programming errors (TypeError and friends) are never wrapped as retriable.
 */
export type Stage =
  | 'config'
  | 'auth'
  | 'subscription'
  | 'listing'
  | 'download'
  | 'parse'
  | 'normalize'
  | 'sink'
  | 'checkpoint'
  | 'simulator'
  | 'lifecycle';

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly code: string;
  readonly retriable: boolean;
  readonly stage: Stage;
  /** Seconds the far side asked us to wait (Retry-After), when it said so. */
  readonly retryAfterSeconds: number | undefined;
  /** HTTP status when the error came from an HTTP answer. */
  readonly httpStatus: number | undefined;

  constructor(
    code: string,
    message: string,
    options: {
      stage: Stage;
      retriable: boolean;
      cause?: unknown;
      retryAfterSeconds?: number | undefined;
      httpStatus?: number | undefined;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable;
    this.stage = options.stage;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.httpStatus = options.httpStatus;
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}
