import { InvalidArgumentError } from 'commander';

/**
 * Parsers for numeric command-line options, so `--timeout abc` is refused with exit code 1 instead of
 * turning into NaN (a run that "caught up" at once, with nothing collected).
 */
export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Expected a non-negative integer.');
  return n;
}

export function positiveInteger(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

export function port(value: string): number {
  const n = integer(value);
  if (n > 65_535) throw new InvalidArgumentError('Expected a port number (0–65535).');
  return n;
}

/** host:port[,host:port…] — a Kafka bootstrap list. */
export function brokerList(value: string): string[] {
  const brokers = value.split(',').map((b) => b.trim());
  for (const broker of brokers) {
    const match = /^(.+):(\d{1,5})$/.exec(broker);
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65_535) throw new InvalidArgumentError(`Expected host:port[,host:port…], got "${broker}".`);
  }
  return brokers;
}

/**
 * The Kafka bootstrap list when none is given: KAFKA_BROKERS, else the broker scripts/kafka.sh runs on
 * KAFKA_PORT, else its default port 19092. One rule for the CLI, the scripts and the tests.
 */
export function defaultBrokers(env: NodeJS.ProcessEnv = process.env): string {
  const named = env['KAFKA_BROKERS']?.trim();
  return named !== undefined && named !== '' ? named : `127.0.0.1:${env['KAFKA_PORT'] ?? '19092'}`;
}
