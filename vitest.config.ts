import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'native/test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 60000,
    // Live kernel tests share the kernel's tracepoints and namespaces: run files one at a time.
    fileParallelism: false,
  },
});
