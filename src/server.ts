// Server: one running evsip instance. It owns every registry (transport, engine, transactions,
// modules), so two servers can live in one process (the tests do). Start order: validate params,
// create modules, init them, open SIP listeners, fire core:worker-one-init.
import { pino, type Logger } from "pino";
import type { AnyAppDefinition, ServerParams } from "./app.js";
import { BUILTIN_MODULES } from "./builtin-modules.js";
import type { ModuleInstance } from "./core/module.js";
import { Engine } from "./core/engine.js";
import { CORE_MODULES } from "./core/core-modules.js";
import type { AnyModuleDefinition } from "./core/module.js";
import { parseMessage } from "./sip/index.js";
import { statefulTransactionUser } from "./tu/index.js";
import { parseListen } from "./transport/listen-spec.js";
import { TransportLayer } from "./transport/transport-layer.js";
import type { MetricsEndpoint, MetricsSource } from "./metrics/index.js";
import { assertValid, logLevelProblem, validateApp, type ValidatedApp } from "./params.js";
import { warmUpSamples, warmUpSip } from "./sip/warm-up.js";
import { receivedOverUdp } from "./transport/udp-shaped.js";
import { warmUpPipeline } from "./warm-up-pipeline.js";
import { EvsipError } from "./errors.js";
import { within } from "./common/within.js";
import { monotonicMs } from "./common/monotonic.js";

export interface ServerOptions {
  /** Overrides app.listen (the CLI's --listen). */
  listen?: readonly string[];
  /** Overrides app.logLevel. */
  logLevel?: ServerParams["logLevel"];
  /** A logger to use instead of a new pino on stdout. */
  logger?: Logger;
}

/** What a graceful stop did. */
export interface DrainReport {
  /** Transactions without a final when the drain began. */
  readonly inFlight: number;
  /** Of those, how many were still unanswered at drainTimeout and got 503. */
  readonly answered: number;
}

/**
 * The layers inside a Server, for this repository's tests and benchmarks only: src/index.ts does
 * not export serverInternals(), so the package's users never see them.
 * @internal
 */
export interface ServerInternals {
  readonly engine: Engine;
  readonly transport: TransportLayer;
  readonly config: ValidatedApp;
  /** Running modules by name (core modules included). */
  readonly modules: Map<string, ModuleInstance<unknown>>;
}

let internalsOf: (server: Server) => ServerInternals;

/** A running (or startable) evsip server. */
export class Server {
  readonly logger: Logger;
  readonly app: AnyAppDefinition;
  readonly #engine: Engine;
  readonly #transport: TransportLayer;
  readonly #config: ValidatedApp;
  readonly #modules = new Map<string, ModuleInstance<unknown>>();
  #started = false;
  /** Set when stop() begins: a start still awaiting the metrics module then opens no endpoint. */
  #stopping = false;
  #metrics: MetricsEndpoint | undefined;

  static {
    internalsOf = (s) => ({ engine: s.#engine, transport: s.#transport, config: s.#config, modules: s.#modules });
  }

  constructor(app: AnyAppDefinition, opts: ServerOptions = {}) {
    this.app = app;
    this.#config = validateApp(app, opts.listen);
    const level = logLevelProblem("ServerOptions.logLevel", opts.logLevel);
    if (level) this.#config.problems.push(level);
    assertValid(this.#config);
    this.logger = opts.logger ?? pino({ level: opts.logLevel ?? app.logLevel ?? "info", base: { name: "evsip" } });
    this.#transport = new TransportLayer(
      {
        listen: this.#config.listen.map(parseListen),
        sipLimits: this.#config.sip,
        tcpIdleTimeout: this.#config.tcp.idleTimeout,
        maxTcpConnections: this.#config.tcp.maxConnections,
        tcpConnectTimeout: this.#config.tcp.connectTimeout,
        maxOutboundTcpConnections: this.#config.tcp.maxOutboundConnections,
        tcpOutboundIdleTimeout: this.#config.tcp.outboundIdleTimeout,
        tcpMaxQueuedBytes: this.#config.tcp.maxQueuedBytes,
        udpRecvBufferSize: this.#config.udp.recvBufferSize,
        overloadFeedback: { queueMs: this.#config.admission.ocQueue, validityMs: this.#config.admission.ocValidity },
        setAsideQueue: this.#config.admission.setAsideQueue,
        logger: this.logger,
        parse: parseMessage,
      },
      (msg, src) => this.#engine.onMessage(msg, src),
      (code, detail, src, raw) => {
        this.#engine.onParseError(code, detail, src, raw);
      },
    );
    this.#engine = new Engine({
      logger: this.logger,
      app,
      transport: this.#transport,
      admission: this.#config.admission,
      locks: this.#config.locks,
      transactionUser: statefulTransactionUser(this.#config.tm),
    });
    this.#createModules();
  }

  #createModules(): void {
    const all: Array<[AnyModuleDefinition, unknown]> = [...CORE_MODULES.map((def): [AnyModuleDefinition, unknown] => [def, {}])];
    for (const [name, params] of this.#config.modules) {
      const def = BUILTIN_MODULES[name];
      if (def) all.push([def, params]);
    }
    for (const [def, params] of all) {
      const name = def.name;
      const instance = def.create(
        {
          logger: this.logger.child({ module: name }),
          engine: this.#engine,
          tm: this.#engine.tu,
          registerPv: (pv, cls) => {
            // The load-time check (params.ts) knows module PVs by this list: keep the two in step.
            if (!def.pvs?.includes(pv)) throw new Error(`module ${name} registers $${pv} without listing it in pvs`);
            this.#engine.pvs.register(pv, cls);
          },
        },
        params,
      ) as ModuleInstance<unknown>;
      this.#modules.set(name, instance);
      this.#engine.defineContextApi(def.ctxName, (ctx) => instance.api(ctx));
    }
  }

  /** Initialises modules, opens the listeners, runs event_route[core:worker-one-init]. */
  async start(): Promise<this> {
    if (this.#started) return this;
    this.#started = true;
    this.#stopping = false;
    try {
      for (const m of this.#modules.values()) await m.init?.();
      if (this.#config.sip.warmUp > 0) warmUpSip(this.#config.sip.warmUp, await receivedOverUdp(warmUpSamples(64)));
      await this.#warmUpCalls();
      await this.#transport.start();
      // What a restart under load meets first is its callers' retransmissions: read, not shed (startGrace).
      this.#engine.admission.opened();
      for (const m of this.#modules.values()) m.started?.();
      if (this.#config.metrics) {
        // Loaded once SIP is listening: prom-client is about 90 ms of a start (a third of loading
        // evsip), and a router restarted under load is down until its SIP listeners open.
        const { MetricsEndpoint } = await import("./metrics/index.js");
        if (!this.#stopping) {
          this.#metrics = new MetricsEndpoint(this.#metricsSource(), { bind: this.#config.metrics.bind, logger: this.logger });
          await this.#metrics.start();
        }
      }
    } catch (err) {
      // A port in use or a module that cannot start: close what did open, so the process can exit.
      await this.stop().catch(() => undefined);
      throw listenFailure(err) ?? err;
    }
    await this.#engine.runEvent("core:worker-one-init");
    for (const l of this.#transport.listeners()) this.logger.info(`listening on ${l.proto}:${l.host}:${l.port}`);
    return this;
  }

  /** Carries `sip.warmUpCalls` calls through a throwaway server of its own over loopback (src/warm-up-pipeline.ts). */
  async #warmUpCalls(): Promise<void> {
    const calls = this.#config.sip.warmUpCalls;
    if (calls === 0) return;
    const t0 = performance.now();
    const done = await warmUpPipeline(calls, (app) => {
      const s = new Server(app, { logger: pino({ level: "silent" }) });
      return {
        start: () => s.start(),
        stop: () => s.stop(),
        sipPort: () => s.listeners()[0]?.port ?? 0,
        evapiPort: () => (s.#modules.get("evapi") as { address(): { port: number } } | undefined)?.address().port ?? 0,
      };
    });
    const ms = Math.round(performance.now() - t0);
    // Short of its calls (no loopback, a filtered one): the start goes on, colder; say so.
    if (done < calls) this.logger.warn({ calls, done, ms }, "call-path warm-up cut short: the first calls will run slower");
    else this.logger.debug({ calls, done, ms }, "warmed up the call path");
  }

  /** Bound SIP listeners (actual ports when 0 was asked). */
  listeners(): ReturnType<TransportLayer["listeners"]> {
    return this.#transport.listeners();
  }

  /** Where /metrics and /status are served (actual port when 0 was asked); undefined when metrics are off. */
  metricsAddress(): { host: string; port: number } | undefined {
    return this.#metrics?.address();
  }

  /** What the metrics endpoint reads: the layers' live stats and the modules' stats(), read-only. */
  #metricsSource(): MetricsSource {
    return { engine: this.#engine, transport: this.#transport, modules: this.#modules };
  }

  /**
   * Graceful stop (what SIGTERM does): new initial requests get 503 with Retry-After, transactions
   * in flight (suspended ones included) get `admission.drainTimeout` to finish, what is left is
   * answered 503, then everything stops. Logged and counted.
   */
  async drain(): Promise<DrainReport> {
    const tu = this.#engine.tu;
    this.#engine.admission.startDraining();
    const { drainTimeout, retryAfter } = this.#config.admission;
    const deadline = monotonicMs() + drainTimeout;
    // New requests still waiting behind the calls in progress (an overload) are answered first:
    // 503, as new work now is; what they started would otherwise go unanswered at the stop.
    await within(this.#transport.whenNewWorkHandled(), drainTimeout);
    const inFlight = tu.unfinished;
    this.logger.info({ inFlight, drainTimeout }, "draining: new calls get 503, calls in flight may finish");
    const idle = await within(tu.whenIdle(), Math.max(0, deadline - monotonicMs()));
    const answered = idle ? 0 : tu.answerUnfinished(503, "Service Unavailable", [`Retry-After: ${retryAfter}`]);
    this.#engine.stats.drainAnswered += answered;
    this.logger.info({ inFlight, answered, refused: this.#engine.admission.stats.refused.get("draining") ?? 0 }, "drained");
    await this.stop();
    return { inFlight, answered };
  }

  /**
   * Stops reading SIP, then stops modules, then closes the listeners; resolves when everything is
   * closed. A module gives its peers what was queued for them first (evapi 1 s, jsonrpcc 2 s at
   * most, for a peer that does not read), and no request is routed meanwhile: its events would find
   * the modules gone. Left unread, a UDP request is retransmitted to the router that replaces this one.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#transport.closeIntake();
    await this.#metrics?.stop();
    this.#metrics = undefined;
    for (const m of [...this.#modules.values()].reverse()) await m.stop?.();
    this.#engine.tu.stop();
    await this.#transport.stop();
    this.#started = false;
  }
}

/**
 * A listener that could not open its address (SIP, evapi, metrics: a port in use, an address not
 * on this host, a port below 1024 without the right) as an EvsipError with one code; the message
 * names the address, and the system error is the cause.
 */
function listenFailure(err: unknown): EvsipError | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!(err instanceof Error) || (e.syscall !== "listen" && e.syscall !== "bind")) return undefined;
  const where = e.address === undefined ? "" : ` ${e.address.includes(":") ? `[${e.address}]` : e.address}:${e.port ?? ""}`;
  return new EvsipError("ERR_LISTEN_FAILED", `cannot listen on${where}: ${e.code ?? e.message}`, { cause: err });
}

/** Creates and starts a server for `app`. */
export async function startServer(app: AnyAppDefinition, opts?: ServerOptions): Promise<Server> {
  return new Server(app, opts).start();
}

/**
 * The server's layers and modules, for this repository's tests and benchmarks (stats, a module's
 * bound port, firing an event route). Not exported from the package entry; not a public API.
 * @internal
 */
export function serverInternals(server: Server): ServerInternals {
  return internalsOf(server);
}
