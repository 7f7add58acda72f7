import type { Cursor } from '../../../src/contracts/checkpoint.ts';
import { MemoryCheckpointStore } from '../../../src/checkpoint/memory-checkpoint-store.ts';
import { checkpointStoreContract } from '../../contract/checkpoint-store.contract.ts';

checkpointStoreContract('MemoryCheckpointStore', () => {
  const backing = new Map<string, Cursor>();
  return Promise.resolve({ createStore: () => new MemoryCheckpointStore(backing) });
});
