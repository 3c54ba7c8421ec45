import { defineConfig } from 'vitest/config';

// The VM matrix (npm run test:vm): Debian kernels under qemu TCG, one VM at a time on purpose —
// TCG is CPU-bound and this project's CI machine has two cores.
export default defineConfig({
  test: {
    include: ['test/vm/**/*.test.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    fileParallelism: false,
  },
});
