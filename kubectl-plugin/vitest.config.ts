import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The tests run the built executable: build it (incrementally) first.
    globalSetup: ['src/test-util/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
