// Server: one running evsip instance. It owns every registry (transport, engine, transactions,
// modules), so two servers can live in one process (the tests do). Start order: validate params,
// create modules, init them, open SIP listeners, fire core:worker-one-init.
import { pino, type Logger } from "pino";
import type { AppDefinition } from "./app.js";
import { BUILTIN_MODULES } from "./builtin-modules.js";
import type { ModuleInstance } from "./core/module.js";
import { Engine } from "./core/engine.js";
import { CORE_MODULES } from "./core/core-modules.js";
import type { AnyModuleDefinition } from "./core/module.js";
import { parseMessage } from "./sip/index.js";
import { statefulTransactionUser } from "./tu/index.js";
import { parseListen } from "./transport/listen-spec.js";
import { TransportLayer } from "./transport/transport-layer.js";
import { MetricsEndpoint } from "./metrics/index.js";
import { assertValid, validateApp, type ValidatedApp } from "./params.js";

export interface ServerOptions {
  /** Overrides app.listen (the CLI's --listen). */
  listen?: readonly string[];
  /** Overrides app.logLevel. */
  logLevel?: AppDefinition["logLevel"];
  /** A logger to use instead of a new pino on stdout. */
  logger?: Logger;
}

/** A running (or startable) evsip server. */
export class Server {
  readonly logger: Logger;
  readonly engine: Engine;
  readonly transport: TransportLayer;
  readonly config: ValidatedApp;
  readonly modules = new Map<string, ModuleInstance<unknown>>();
  private started = false;
  private metrics: MetricsEndpoint | undefined;

  readonly app: AppDefinition;

  constructor(app: AppDefinition, opts: ServerOptions = {}) {
    this.app = app;
    this.config = validateApp(app, opts.listen);
    assertValid(this.config);
    this.logger = opts.logger ?? pino({ level: opts.logLevel ?? app.logLevel ?? "info", base: { name: "evsip" } });
    this.transport = new TransportLayer(
      {
        listen: this.config.listen.map(parseListen),
        sipLimits: this.config.sip,
        tcpIdleTimeout: this.config.tcp.idleTimeout,
        maxTcpConnections: this.config.tcp.maxConnections,
        tcpConnectTimeout: this.config.tcp.connectTimeout,
        maxOutboundTcpConnections: this.config.tcp.maxOutboundConnections,
        tcpOutboundIdleTimeout: this.config.tcp.outboundIdleTimeout,
        tcpMaxQueuedBytes: this.config.tcp.maxQueuedBytes,
        udpRecvBufferSize: this.config.udp.recvBufferSize,
        logger: this.logger,
        parse: parseMessage,
      },
      (msg, src) => this.engine.onMessage(msg, src),
      (code, detail, src) => {
        void this.engine.runEvent("core:receive-parse-error", { code, detail }, undefined, src);
      },
    );
    this.engine = new Engine({
      logger: this.logger,
      app,
      transport: this.transport,
      transactionUser: statefulTransactionUser(this.config.tm),
    });
    this.createModules();
  }

  private createModules(): void {
    const all: Array<[AnyModuleDefinition, unknown]> = [...CORE_MODULES.map((def): [AnyModuleDefinition, unknown] => [def, {}])];
    for (const [name, params] of this.config.modules) {
      const def = BUILTIN_MODULES[name];
      if (def) all.push([def, params]);
    }
    for (const [def, params] of all) {
      const name = def.name;
      const instance = def.create(
        {
          logger: this.logger.child({ module: name }),
          engine: this.engine,
          tm: this.engine.tu,
          registerPv: (pv, cls) => this.engine.pvs.register(pv, cls),
        },
        params,
      ) as ModuleInstance<unknown>;
      this.modules.set(name, instance);
      this.engine.defineContextApi(def.ctxName, (ctx) => instance.api(ctx));
    }
  }

  /** Initialises modules, opens the listeners, runs event_route[core:worker-one-init]. */
  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    try {
      for (const m of this.modules.values()) await m.init?.();
      await this.transport.start();
      if (this.config.metrics) {
        this.metrics = new MetricsEndpoint(this, { bind: this.config.metrics.bind, logger: this.logger });
        await this.metrics.start();
      }
    } catch (err) {
      // A port in use or a module that cannot start: close what did open, so the process can exit.
      await this.stop().catch(() => undefined);
      throw err;
    }
    await this.engine.runEvent("core:worker-one-init");
    for (const l of this.transport.listeners()) this.logger.info(`listening on ${l.proto}:${l.host}:${l.port}`);
    return this;
  }

  /** Bound SIP listeners (actual ports when 0 was asked). */
  listeners(): ReturnType<TransportLayer["listeners"]> {
    return this.transport.listeners();
  }

  /** Where /metrics and /status are served (actual port when 0 was asked); undefined when metrics are off. */
  metricsAddress(): { host: string; port: number } | undefined {
    return this.metrics?.address();
  }

  /** Stops modules and listeners; resolves when everything is closed. */
  async stop(): Promise<void> {
    await this.metrics?.stop();
    this.metrics = undefined;
    for (const m of [...this.modules.values()].reverse()) await m.stop?.();
    this.engine.tu.stop();
    await this.transport.stop();
    this.started = false;
  }
}

/** Creates and starts a server for `app`. */
export async function startServer(app: AppDefinition, opts?: ServerOptions): Promise<Server> {
  return new Server(app, opts).start();
}
