import { createMemoryStore } from '../src/runtime/memory-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('memory', async () => createMemoryStore());
