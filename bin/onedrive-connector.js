#!/usr/bin/env node
/* global process */
// Node 24 strips TypeScript types natively, so the CLI runs from source without a build step.

// kafkajs 2.2.4 schedules a negative timeout in its request queue (harmless; Node clamps it to 1 ms)
// and Node 24 warns on every occurrence. Drop that one warning, print all others as Node would.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'TimeoutNegativeWarning') return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

// Before anything loads kafkajs: its read_committed filter lets some aborted records through.
await import('../src/kafka/kafkajs-aborted-filter.ts');
// kafkajs asks for every topic's metadata when a client has used none yet (see the module).
await import('../src/kafka/kafkajs-metadata-scope.ts');
await import('../src/cli/main.ts');
