import type { KafkaClientName } from '../../src/kafka/sink-client.ts';

/**
 * TEST_KAFKA_CLIENT=platformatic runs the fault matrix and pipeline tests with the sink on
 * @platformatic/kafka (issue 7: both clients through the same checks); unset, the configuration's default.
 */
export function kafkaClientOverride(env: NodeJS.ProcessEnv = process.env): { client?: KafkaClientName } {
  const client = env['TEST_KAFKA_CLIENT'];
  if (client === undefined || client === '') return {};
  if (client !== 'kafkajs' && client !== 'platformatic') throw new Error(`TEST_KAFKA_CLIENT must be kafkajs or platformatic (got ${client})`);
  return { client };
}
