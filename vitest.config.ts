import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/_helpers/seed.ts"],
    // Property, exploration and differential (real-kernel) tests are long.
    testTimeout: 120_000,
  },
});
