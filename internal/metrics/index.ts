/**
 * Prometheus metrics (DESIGN.md §5): every metric name lives in `names.ts`, and `createMetrics`
 * builds a fresh prom-client registry with them plus the default process metrics. The controller
 * feeds it through `ControllerHooks`; gauges that describe the present (runtime up, longest-running
 * worker) are read at scrape time.
 */
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export * from './names.js';
