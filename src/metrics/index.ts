// The metrics exporter: Prometheus /metrics and JSON /status over the live stats of every layer and
// module (see README.md for the metric names).
export { MetricsEndpoint, type MetricsEndpointOptions } from "./metrics-endpoint.js";
export { LAYER_METRICS, type MetricSpec } from "./layer-metrics.js";
export { isGaugeName, moduleMetricName } from "./module-metrics.js";
export type { MetricsSource, StatValue } from "./source.js";
export type { StatusReport } from "./status.js";
