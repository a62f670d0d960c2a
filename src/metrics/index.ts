// The metrics exporter: Prometheus /metrics and JSON /status over the live stats of every layer and
// module (see README.md for the metric names).
export { MetricsEndpoint } from "./metrics-endpoint.js";
export type { MetricsSource } from "./source.js";
