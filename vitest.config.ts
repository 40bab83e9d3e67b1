import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests and the WebAssembly parser's first load take seconds on a busy 2-core
          // runner; vitest's 5 s default turned load into failures.
          testTimeout: 30_000,
          // Fast tests first; the two projects run one after the other (they size workers differently).
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          // Real servers and real processes: two cores, so at most two files at once.
          maxWorkers: 2,
        },
      },
    ],
  },
});
