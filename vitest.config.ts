import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["spec/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real daemons and guest processes; two cores run two files at once.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
