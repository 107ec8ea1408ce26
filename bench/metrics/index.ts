/** Every metric, in the order the table shows them. */
import type { Metric } from '../harness.js';
import type { Fixtures } from '../fixtures.js';
import { cliMetrics } from './cli.js';
import { apiMetrics } from './api.js';
import { buildMetrics } from './build.js';
import { commitMetrics } from './commit.js';
import { containerMetrics } from './container.js';
import { dockerMetrics } from './docker.js';
import { memoryMetrics } from './memory.js';
import { networkMetrics } from './networks.js';
import { portMetrics } from './ports.js';
import { registryMetrics } from './registry.js';
import { uiMetrics } from './ui.js';

export const ALL_METRICS: Metric<Fixtures>[] = [
  ...cliMetrics,
  ...containerMetrics,
  ...apiMetrics,
  ...dockerMetrics,
  ...commitMetrics,
  ...registryMetrics,
  ...buildMetrics,
  ...portMetrics,
  ...networkMetrics,
  ...memoryMetrics,
  ...uiMetrics,
];
