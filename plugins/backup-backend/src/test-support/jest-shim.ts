// @backstage/backend-test-utils' `mockServices.*.mock()` build their mocks with `jest.fn()`:
// vitest's `vi` offers the same API.
import { vi } from 'vitest';

(globalThis as { jest?: unknown }).jest = vi;
