// Test harness for the evapi module: starts an EvapiModule on 127.0.0.1:0 with a small route runner
// standing in for the engine (the routing engine is exercised by the server tests), and plain
// net.Socket clients that collect netstring frames. Real sockets only; waits on events, never sleeps.
import { connect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { once } from "node:events";
import { pino, type Logger } from "pino";
import type { Engine } from "../../src/core/engine.js";
import type { ModuleHost } from "../../src/core/module.js";
import type { RouteContext } from "../../src/core/context.js";
import type { TmApi } from "../../src/core/context-types.js";
import type { TransactionApi } from "../../src/core/transaction-user.js";
import { validateParams } from "../../src/core/params.js";
import { NetstringDecoder } from "evsip-client/netstring";
import { EVAPI_PARAMS, type EvapiParams } from "../../src/modules/evapi/params.js";
import { EvapiModule } from "../../src/modules/evapi/module-instance.js";
import { evapiPvClass } from "../../src/modules/evapi/pv.js";
import type { EvapiApi } from "../../src/modules/evapi/api-types.js";

/** What a test route receives: the parts of the route context evapi uses. */
export interface TestCtx {
  readonly kind: "event" | "request" | "failure";
  readonly eventData: unknown;
  readonly evapi: EvapiApi;
  readonly tm?: TmApi;
  readonly log: RouteContext["log"];
  pv(spec: string): string | number | null;
}

export type TestRoute = (ctx: TestCtx) => void | Promise<void>;

export interface Harness {
  readonly mod: EvapiModule;
  readonly port: number;
  readonly events: Record<string, TestRoute>;
  /** conidx of every connection-new, pushed after its route (if any) returned. */
  readonly connections: Collector<number>;
  /** Builds a context of another kind (a request route) for calling the API directly. */
  ctx(kind: TestCtx["kind"], tm?: TmApi): TestCtx;
  stop(): Promise<void>;
}

const silent = pino({ level: "silent" });

/** Starts an evapi module with `events` as its event routes. */
export async function startEvapi(
  params: Partial<EvapiParams>,
  events: Record<string, TestRoute> = {},
  logger: Logger = silent,
): Promise<Harness> {
  const { params: p, problems } = validateParams("evapi", EVAPI_PARAMS, { bindAddr: "127.0.0.1:0", ...params });
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  const ref: { mod?: EvapiModule } = {};
  const connections = new Collector<number>();
  const makeCtx = (kind: TestCtx["kind"], eventData: unknown, tm?: TmApi): TestCtx => {
    const ctx = {
      kind,
      eventData,
      tm,
      log: silent,
      pv: (spec: string) => evapiPvClass.get(ctx as unknown as RouteContext, /^\$evapi\((.*)\)$/.exec(spec)?.[1]),
    } as unknown as { evapi: EvapiApi } & TestCtx;
    ctx.evapi = (ref.mod as EvapiModule).api(ctx as unknown as RouteContext);
    return ctx;
  };
  const engine = {
    runEvent(name: string, data: unknown, _m: unknown, _s: unknown, fallback?: (ctx: unknown) => unknown) {
      const fn = events[name] ?? fallback;
      const note = (): boolean => {
        if (name === "evapi:connection-new") connections.push((data as { conidx: number }).conidx);
        return fn !== undefined;
      };
      if (!fn) return note();
      const r = fn(makeCtx("event", data));
      return r instanceof Promise ? r.then(note) : note();
    },
  };
  const host: ModuleHost = {
    logger,
    engine: engine as unknown as Engine,
    tm: perContextTm(),
    registerPv: () => undefined,
  };
  const mod = new EvapiModule(host, p);
  ref.mod = mod;
  await mod.init();
  return {
    mod,
    port: mod.address().port,
    events,
    connections,
    ctx: (kind, tm) => makeCtx(kind, undefined, tm),
    stop: () => mod.stop(),
  };
}

/** The module-facing tm API, delegating to the stand-in ctx.tm a test gave the context (if any). */
function perContextTm(): TransactionApi {
  const of = (ctx: RouteContext): TmApi => {
    const tm = (ctx as unknown as TestCtx).tm;
    if (!tm) throw new Error("this test context has no tm stand-in");
    return tm;
  };
  const unused = (): never => {
    throw new Error("not used by evapi");
  };
  return {
    suspend: (ctx) => of(ctx).suspend(),
    unsuspend: (ctx) => of(ctx).unsuspend(),
    hold: (ctx, p, opts) => of(ctx).hold(p, opts),
    held: () => true, // the stand-ins' hold() always takes
    isCancelled: () => false,
    id: (ctx) => of(ctx).id(),
    newTran: unused,
    reply: unused,
    relay: unused,
    onReply: unused,
    onFailure: unused,
    continue: unused,
    release: unused,
    observe: unused,
    requestWithin: unused,
  };
}

/** A plain TCP client that collects netstring frames (or raw bytes) from the server. */
/**
 * Runs `body` against a started evapi (message-received does nothing unless `events` says
 * otherwise) and stops it whatever happens.
 */
export async function withEvapi(
  params: Partial<EvapiParams>,
  body: (h: Harness) => Promise<void>,
  events: Record<string, TestRoute> = {},
): Promise<void> {
  const h = await startEvapi(params, { "evapi:message-received": () => undefined, ...events });
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

export class TestClient {
  readonly socket: Socket;
  readonly frames: string[] = [];
  /** Frames received (also counted when `store` is false). */
  frameCount = 0;
  raw = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];
  private readonly decoder: NetstringDecoder;

  /** `store: false` only counts frames (for floods). */
  constructor(port: number, host = "127.0.0.1", store = true, socket?: Socket) {
    this.decoder = new NetstringDecoder({
      maxMessageSize: 1 << 24,
      onFrame: (p) => {
        this.frameCount++;
        if (store) this.frames.push(p.toString());
      },
    });
    this.socket = socket ?? connect({ port, host });
    this.socket.on("data", (c: Buffer) => {
      if (store) this.raw = Buffer.concat([this.raw, c]);
      this.decoder.push(c);
      this.wake();
    });
    this.socket.on("error", () => undefined);
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(port: number, host = "127.0.0.1", store = true): Promise<TestClient> {
    const c = new TestClient(port, host, store);
    await once(c.socket, "connect", { signal: AbortSignal.timeout(5000) });
    return c;
  }

  /** A TLS client (resolves once its handshake is done). */
  static async openTls(port: number, options: ConnectionOptions): Promise<TestClient> {
    const c = new TestClient(port, "127.0.0.1", true, tlsConnect({ port, host: "127.0.0.1", ...options }));
    await once(c.socket, "secureConnect", { signal: AbortSignal.timeout(5000) });
    return c;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves when `pred` holds (checked after every read and on close), else rejects after `ms`. */
  async until(pred: () => boolean, ms = 5000): Promise<void> {
    const deadline = AbortSignal.timeout(ms);
    while (!pred()) {
      if (deadline.aborted) throw new Error(`timed out; frames=${JSON.stringify(this.frames.slice(-5))} closed=${this.closed}`);
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        deadline.addEventListener("abort", onAbort, { once: true });
        this.waiters.push(() => {
          deadline.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  }

  waitFrames(n: number, ms?: number): Promise<void> {
    return this.until(() => this.frameCount >= n, ms);
  }

  waitClosed(ms?: number): Promise<void> {
    return this.until(() => this.closed, ms);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A promise plus its resolver, for waiting on a route callback. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Collects values pushed by routes and lets a test wait for the n-th one. */
export class Collector<T> {
  readonly items: T[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  push(v: T): void {
    this.items.push(v);
    this.waiters = this.waiters.filter((w) => (this.items.length >= w.n ? (w.resolve(), false) : true));
  }

  async wait(n: number, ms = 5000): Promise<T[]> {
    if (this.items.length < n) {
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
        new Promise<void>((_, reject) => {
          const t = setTimeout(
            () => reject(new Error(`timed out waiting for ${n} items, have ${JSON.stringify(this.items)}`)),
            ms,
          );
          t.unref();
        }),
      ]);
    }
    return this.items;
  }
}
