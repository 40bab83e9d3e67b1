import { defineConfig } from 'vitest/config';

// `MAINT_TEST_REPORT=file` also writes vitest's JSON report there (CI's closing line comes from it),
// so CI runs exactly the README's command.
const report = process.env.MAINT_TEST_REPORT;

export default defineConfig({
  test: {
    // Every test file gets its own TMPDIR, removed when it ends; leftovers fail the run.
    globalSetup: ['test/helpers/tmp-root.ts'],
    ...(report ? { reporters: ['default', 'json'], outputFile: { json: report } } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests and the WebAssembly parser's first load take seconds on a busy 2-core
          // runner; vitest's 5 s default turned load into failures.
          testTimeout: 30_000,
          setupFiles: ['test/helpers/tmp-sandbox.ts'],
          // Fast tests first; the two projects run one after the other (they size workers differently).
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/helpers/tmp-sandbox.ts'],
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
