import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/load.ts';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { shardOf } from '../../../src/kafka/shard-group.ts';
import { createScaleOut } from '../../../src/runtime/scale-out.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { MINIMAL_YAML } from '../../support/config-fixtures.ts';

// Offline: nothing here reaches a broker (the group joins only in start(), which is not called).
function setup() {
  const raw = parse(MINIMAL_YAML) as { kafka: Record<string, unknown> };
  const config = parseConfig({ ...raw, kafka: { ...raw.kafka, shards: { count: 4 } } });
  const metrics = createMetrics();
  const kafka = new Kafka({ clientId: 'scale-out-test', brokers: ['127.0.0.1:1'] });
  const scaleOut = createScaleOut({ config, kafka, security: { ssl: false, sasl: undefined }, metrics, logger: silentLogger });
  return { scaleOut, metrics };
}

const rebalances = async (metrics: ReturnType<typeof createMetrics>, kind: string): Promise<number> =>
  (await metrics.shardRebalances.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;

describe('scale-out wiring', () => {
  it('owns nothing, is not ready and refuses every tenant until the group assigns shards', async () => {
    const { scaleOut } = setup();
    expect(scaleOut.owns('tenant-a')).toBe(false);
    expect(scaleOut.loading('tenant-a')).toBe(false);
    expect(scaleOut.supervision.owns?.('tenant-a')).toBe(false);
    expect(scaleOut.readiness.name).toBe('shards');
    expect(scaleOut.readiness.check().ok).toBe(false);
    expect(scaleOut.status()).toEqual({ count: 4, member: undefined, owned: [], changing: { assigning: [], revoking: [] } });
    expect(scaleOut.shardOf('tenant-a')).toBe(shardOf('tenant-a', 4));
    await expect(scaleOut.sink.begin('tenant-a')).rejects.toMatchObject({ code: 'SINK_SHARD_NOT_OWNED', retriable: true });
  });

  it('takes a fenced producer or an unanswered commit as a shard hand-over, anything else as fatal', async () => {
    const { scaleOut, metrics } = setup();
    const error = (code: string) => new ConnectorError(code, code, { stage: 'sink', retriable: false });
    expect(scaleOut.absorbs('tenant-a', error('SINK_FENCED'))).toBe(true);
    expect(await rebalances(metrics, 'lost')).toBe(1);
    expect(scaleOut.absorbs('tenant-a', error('SINK_COMMIT_UNCERTAIN'))).toBe(true);
    expect(scaleOut.absorbs('tenant-a', error('SINK_FAILED'))).toBe(false);
    expect(await rebalances(metrics, 'lost')).toBe(1);
  });
});
