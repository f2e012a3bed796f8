/**
 * Galata (Playwright) configuration for the mlops_jlab browser tests.
 *
 * Uses Debian's chromium (/usr/bin/chromium); never `playwright install`.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

module.exports = {
  ...baseConfig,
  timeout: 120000,
  expect: { timeout: 20000 },
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    viewport: { width: 1440, height: 900 },
    launchOptions: { executablePath: '/usr/bin/chromium' }
  },
  // One server and one store for every spec file: run them one after the other.
  workers: 1,
  // The store is shared and starts empty: the panel and registry specs first
  // (mlops.spec.ts checks the empty state), then the serving and monitoring specs,
  // then alerts.spec.ts (it checks the empty Alerts section first).
  projects: [
    { name: 'tracking', testMatch: /(mlops|models)\.spec\.ts$/ },
    {
      name: 'serving',
      testMatch: /(deployments|monitoring)\.spec\.ts$/,
      dependencies: ['tracking']
    },
    // Files of a project run in name order: alerts.spec.ts gets its own project.
    {
      name: 'alerts',
      testMatch: /alerts\.spec\.ts$/,
      dependencies: ['serving']
    },
    // Governance seeds its own model and users (galata is the store's admin).
    {
      name: 'governance',
      testMatch: /governance\.spec\.ts$/,
      dependencies: ['alerts']
    },
    // The whole panel with 10,000 runs, two deployments and a drift alert; last.
    {
      name: 'experience',
      testMatch: /experience\.spec\.ts$/,
      dependencies: ['governance']
    },
    // Schedules, sweeps and notebook runs: seeds its own runs and schedule.
    {
      name: 'schedules',
      testMatch: /schedules\.spec\.ts$/,
      dependencies: ['experience']
    },
    // Explanations, AutoML and federated runs: seeds its own model and runs.
    {
      name: 'insights',
      testMatch: /insights\.spec\.ts$/,
      dependencies: ['schedules']
    }
  ],
  reporter: [['list'], ['html', { open: 'never' }]],
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120000,
    reuseExistingServer: !process.env.CI
  }
};
