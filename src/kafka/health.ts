import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface KafkaHealthOptions {
  kafka: Kafka;
  intervalMs: number;
  timeoutMs: number;
  metrics: Pick<Metrics, 'kafkaUp'>;
  logger: Logger;
}

/**
 * Whether the cluster answers, for readiness and `onedrive_connector_kafka_up`. The sink alone cannot
 * tell: a quiet connector sends nothing for minutes. One metadata round trip per interval on an admin
 * client of its own; only changes are logged, so a healthy run stays silent.
 */
export class KafkaHealth {
  readonly #o: KafkaHealthOptions;
  readonly #log: Logger;
  #admin: Admin | undefined;
  #reachable: boolean | undefined;
  #lastError = 'not probed yet';
  #timer: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;
  #stopped = false;

  constructor(options: KafkaHealthOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'kafka-health' });
  }

  reachable(): boolean {
    return this.#reachable === true;
  }

  /** Why Kafka counts as unreachable (empty while reachable). */
  detail(): string {
    return this.#reachable === true ? '' : this.#lastError;
  }

  /** Probes once now, then every interval until stop(). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.probe();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#probing;
    await this.#dropAdmin();
  }

  /** One probe; never throws. */
  probe(): Promise<void> {
    this.#probing ??= this.#probe().finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.probe().then(() => this.#schedule()), this.#o.intervalMs);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // No retries of its own: the next probe is the retry, and a hung attempt must not pile up behind it.
      const admin = (this.#admin ??= this.#o.kafka.admin({ retry: { retries: 0 } }));
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
      });
      await Promise.race([admin.connect().then(() => admin.describeCluster()), deadline]);
      this.#set(true, '');
    } catch (error) {
      // A fresh admin next time: kafkajs may keep a half-open connection after a broker went away.
      await this.#dropAdmin();
      this.#set(false, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  #set(reachable: boolean, error: string): void {
    const changed = reachable !== this.#reachable;
    this.#reachable = reachable;
    this.#lastError = error;
    this.#o.metrics.kafkaUp.set(reachable ? 1 : 0);
    if (!changed || this.#stopped) return;
    if (reachable) this.#log.info('Kafka is reachable');
    else this.#log.warn({ err: error }, 'Kafka is unreachable');
  }

  async #dropAdmin(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
