// The HTTP side of the exporter: GET /metrics (Prometheus text format from a per-server prom-client
// Registry, never the global one, so two servers can run in one process) and GET /status (JSON).
// Anything else is 404 (405 for other methods), a malformed request 400 (counted, logged rate-limited);
// at most maxConnections sockets at once. Started and stopped by Server with its listeners.
import type { Duplex } from "node:stream";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import { formatHostPort, type HostPort } from "../common/host-port.js";
import { ConfigError, type ErrorCode } from "../errors.js";
import { RateLimitedLog } from "../common/rate-limited-log.js";
import { LAYER_METRICS } from "./layer-metrics.js";
import { ModuleMetrics } from "./module-metrics.js";
import { registerSpec } from "./register.js";
import type { MetricsSource } from "./source.js";
import { buildStatus, type StatusReport } from "./status.js";

/** Enough for a few scrapers and dashboards; the endpoint is not meant for more. */
const DEFAULT_MAX_CONNECTIONS = 64;
/** A scrape is one small request: 10 s for its headers and for the whole of it is plenty. */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** An hour: a scrape that takes longer is not a scrape. */
const MAX_REQUEST_TIMEOUT_MS = 3_600_000;
/**
 * How often node:http looks for connections past their timeout. Its default (30 s) would let a
 * slow client hold a slot four times longer than the timeout says; 64 connections are cheap to walk.
 */
const TIMEOUT_CHECK_MS = 1000;

/** Options of a MetricsEndpoint. */
export interface MetricsEndpointOptions {
  readonly bind: HostPort;
  readonly logger: Logger;
  /** Also export prom-client's process_* and nodejs_* metrics (default true). */
  readonly processMetrics?: boolean;
  /** Most HTTP connections at once; past it new ones are closed at once and counted. Default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
  /** Time (ms, 1 to 3,600,000) a client has to send a request's headers, and the whole request; past it: 408, closed. Default 10,000. */
  readonly requestTimeout?: number;
}

const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/** evsip's version from package.json (dist/src/metrics or src/metrics), "unknown" when not found. */
function packageVersion(): string {
  for (const rel of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "evsip" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}

/**
 * Serves /metrics and /status for one server.
 * @example
 * const ep = new MetricsEndpoint({ engine, transport, modules }, { bind: { host: "127.0.0.1", port: 0 }, logger });
 * await ep.start(); // ep.address() → { host: "127.0.0.1", port: 41234 }
 */
export class MetricsEndpoint {
  /** The per-server registry every evsip metric is registered on. */
  readonly registry = new Registry();
  readonly version = packageVersion();
  /** Malformed requests answered 400, by code; connections dropped past maxConnections; requests too slow (408). */
  readonly stats = { errors: new Map<ErrorCode, number>(), dropped: 0, timeouts: 0 };
  private readonly log: RateLimitedLog;
  private readonly source: MetricsSource;
  private readonly opts: MetricsEndpointOptions;
  private readonly moduleMetrics: ModuleMetrics;
  private readonly http: HttpServer;
  private startedAt = new Date();
  private bound: { host: string; port: number } | undefined;

  constructor(source: MetricsSource, opts: MetricsEndpointOptions) {
    const timeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // node:http reads 0 as "no timeout": a slow client could then hold a slot for good.
    if (!Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_REQUEST_TIMEOUT_MS) {
      throw new ConfigError(
        "ERR_CONFIG_INVALID",
        `metrics requestTimeout must be 1–${MAX_REQUEST_TIMEOUT_MS} ms, got ${timeout}`,
      );
    }
    this.source = source;
    this.opts = opts;
    for (const spec of LAYER_METRICS) registerSpec(this.registry, spec, source);
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // SIP routing runs on this one thread: its busy share (rate() of this) is how near evsip is
      // to its ceiling, which the process's CPU (GC and compiler threads included) does not say.
      this.countOf(
        "evsip_event_loop_busy_seconds_total",
        "Time the event loop spent busy (not waiting for I/O) since the process started; its rate is the loop's utilization, 1 at evsip's ceiling",
        () => performance.eventLoopUtilization().active / 1000,
      );
    }
    this.moduleMetrics = new ModuleMetrics(this.registry, source);
    this.log = new RateLimitedLog(opts.logger);
    this.registerOwnMetrics();
    const check = Math.min(TIMEOUT_CHECK_MS, timeout);
    const limits = { headersTimeout: timeout, requestTimeout: timeout, connectionsCheckingInterval: check };
    this.http = createServer(limits, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.opts.logger.error({ err }, "metrics: request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      });
    });
    this.http.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.http.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    this.http.on("drop", (data?: { remoteAddress?: string }) => {
      this.stats.dropped++;
      this.log.warn("ERR_METRICS_MAX_CONNECTIONS", "metrics: connection dropped at maxConnections", {
        remote: data?.remoteAddress,
        max: this.http.maxConnections,
      });
    });
  }

  /** Binds the HTTP listener; resolves with the bound address (port 0 asks the OS for one). */
  async start(): Promise<{ host: string; port: number }> {
    this.startedAt = new Date();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.http.once("error", onError);
      this.http.listen(this.opts.bind.port, this.opts.bind.host, () => {
        this.http.off("error", onError);
        resolve();
      });
    });
    this.http.on("error", (err) => this.opts.logger.error({ err }, "metrics: http server error"));
    const a = this.http.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    this.opts.logger.info(`metrics on http://${formatHostPort(a.address, a.port)}/metrics`);
    return this.bound;
  }

  /** The bound address, once started. */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** The Prometheus text of every metric, read live. */
  async metrics(): Promise<string> {
    this.moduleMetrics.refresh();
    return this.registry.metrics();
  }

  /** The /status report, read live. */
  status(): StatusReport {
    return buildStatus(this.source, this.version, this.startedAt, this.moduleMetrics.refresh());
  }

  /** Closes the listener and any open keep-alive connection. Idempotent. */
  async stop(): Promise<void> {
    if (!this.http.listening) return;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
    this.bound = undefined;
  }

  private registerOwnMetrics(): void {
    const stats = this.stats;
    new Counter({
      name: "evsip_metrics_http_errors_total",
      help: "Malformed requests to the metrics endpoint answered 400, by error code",
      labelNames: ["reason"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [k, n] of stats.errors) this.inc({ reason: k }, n);
      },
    });
    this.countOf(
      "evsip_metrics_http_timeouts_total",
      "Requests to the metrics endpoint not received in time (requestTimeout), answered 408",
      () => stats.timeouts,
    );
    this.countOf(
      "evsip_metrics_http_dropped_total",
      "Connections to the metrics endpoint dropped at maxConnections",
      () => stats.dropped,
    );
  }

  /** A counter without labels that reads its value from `read` at each scrape. */
  private countOf(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  private badRequest(detail: string, fields: Record<string, unknown>): void {
    const code: ErrorCode = "ERR_METRICS_BAD_REQUEST";
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
    this.log.warn(code, `metrics: bad request: ${detail}`, fields);
  }

  /** A request node:http could not parse (or a socket error before one): 400 and close. */
  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      // headersTimeout/requestTimeout: a slow client, not a malformed request (Node's own answer).
      this.stats.timeouts++;
      this.log.warn("ERR_METRICS_REQUEST_TIMEOUT", "metrics: request not received in time: 408, closed", {
        timeoutMs: this.http.requestTimeout,
      });
      socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.badRequest("unparsable HTTP request", { err: err.code ?? err.message });
    socket.end(BAD_REQUEST);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://evsip.invalid").pathname;
    } catch {
      this.badRequest("unparsable URL", { url: (req.url ?? "").slice(0, 200), remote: req.socket.remoteAddress });
      res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("bad request\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (path === "/metrics") {
      const body = await this.metrics();
      res.writeHead(200, { "content-type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (path === "/status") {
      const body = `${JSON.stringify(this.status(), null, 2)}\n`;
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /status\n");
  }
}
