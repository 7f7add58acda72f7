import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log line. Secrets should never be logged at all;
 * this is the second line of defence for objects (configs, HTTP options, errors) logged whole.
 */
export const REDACTED_PATHS = [
  'clientSecret',
  '*.clientSecret',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'client_assertion',
  '*.client_assertion',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stderr by default so stdout stays free for command output (NDJSON, JSON lines). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'onedrive-connector' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: the default for library code under unit test. */
export const silentLogger: Logger = pino({ level: 'silent' });
