import { defineConfig } from "vitest/config";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  test: {
    include: ["test/**/*.test.{js,jsx,ts,tsx}"],
    environment: "node",
    // The typed client's generated halves (api-types.mjs), for tests run without a build.
    globalSetup: ["test/api-types.setup.js"],
  },
});
