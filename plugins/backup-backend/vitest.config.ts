import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // @backstage/backend-test-utils' TestDatabases registers its clean-up with a global afterAll.
    globals: true,
    setupFiles: ['src/test-support/jest-shim.ts'],
    globalSetup: ['src/test-support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
