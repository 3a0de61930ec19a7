import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // stored objects are frozen: code that mutates one instead of copying it fails (store.ts)
    env: { KUBE_SIM_FREEZE: '1' },
  },
});
