import type { Cursor } from '../../src/contracts/checkpoint.ts';
import type { TenantRegistry } from '../../src/contracts/tenant-registry.ts';
import { Supervisor, type StatusEvent, type TenantRuntimeFactory } from '../../src/lifecycle/supervisor.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import type { ManualClock } from '../../src/util/manual-clock.ts';

/** A poller stand-in that only waits to be stopped. */
export const idleRuntime: TenantRuntimeFactory = () => ({
  run: (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  stopSubscription: () => Promise.resolve(),
  lastCursor: () => undefined,
});

/**
 * A real supervisor over in-memory cursors and status events, for tests of what it decides: the
 * cursors and events maps are what it wrote, nothing reaches Microsoft or Kafka.
 */
export function testSupervisor(options: {
  registry: TenantRegistry;
  clock: ManualClock;
  createRuntime?: TenantRuntimeFactory;
  cursors?: Map<string, Cursor>;
  owns?: (tenantId: string) => boolean;
}): { supervisor: Supervisor; cursors: Map<string, Cursor>; events: StatusEvent[] } {
  const cursors = options.cursors ?? new Map<string, Cursor>();
  const events: StatusEvent[] = [];
  const supervisor = new Supervisor({
    registry: options.registry,
    createRuntime: options.createRuntime ?? idleRuntime,
    cursors: {
      load: (id) => cursors.get(id),
      forget: (id) => {
        cursors.delete(id);
        return Promise.resolve();
      },
    },
    publishStatus: (event) => {
      events.push(event);
      return Promise.resolve();
    },
    clock: options.clock,
    logger: silentLogger,
    metrics: createMetrics(),
    settings: { pollIntervalMs: 60_000, deauthorizedRetentionMs: 90 * 86_400_000, sweepIntervalMs: 60_000 },
    ...(options.owns === undefined ? {} : { owns: options.owns }),
  });
  return { supervisor, cursors, events };
}
