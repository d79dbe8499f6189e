import { defineConfig } from 'vitest/config';

// Three projects: `unit` runs in parallel against the native mock and in-process virtual cards;
// `pcscd` drives the one system pcscd (+ vpcd) of the machine, so its files run one at a time;
// `browser` drives a real Chromium through the service's web pages, one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'pcscd',
          include: ['test/pcscd/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
