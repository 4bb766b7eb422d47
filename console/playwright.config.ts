// The console's browser tests: Debian's Chromium (never a browser download), one worker (the
// tests share one local desk), artifacts outside the clone. scripts/browser-test.sh starts
// the desk and sets the environment.
import { defineConfig } from "@playwright/test";

const artifacts = process.env.CONSOLE_ARTIFACTS ?? "test-results";

export default defineConfig({
  testDir: "tests",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: `${artifacts}/results`,
  use: {
    baseURL: process.env.OMNIDESK_BASE ?? "http://127.0.0.1:3000",
    headless: true,
    viewport: { width: 1280, height: 860 },
    locale: "en-US",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/lib/chromium/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    },
  },
});
