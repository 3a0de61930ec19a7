import { describeStorageConformance } from '../testing/conformance.js';
import { MemoryStorage } from './memory.js';

describeStorageConformance('MemoryStorage', async () => ({
  storage: new MemoryStorage('conformance'),
  cleanup: async () => {},
}));
