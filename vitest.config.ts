import { defineConfig } from 'vitest/config';

// Three layers: unit (offline, fast), integration (real Kafka + the simulator), chaos (kill -9, broker down).
// They run one layer after the other: integration and chaos tests stop and start the shared broker.
// kafkajs' read_committed filter is fixed before a test file loads kafkajs (src/kafka/kafkajs-aborted-filter.ts).
const setupFiles = ['test/support/kafkajs-fix-setup.ts'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles, testTimeout: 10_000, sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          setupFiles,
          sequence: { groupOrder: 2 },
          testTimeout: 900_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
