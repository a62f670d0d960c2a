// The jsonrpcc module as a declared table (Kamailio's module exports): params with defaults, the
// `servers` grammar checked at load, and ctx.jsonrpc. request() is Kamailio's suspend → send → exit
// with the answer delivered through tm.continue; call() is the awaitable form built on tm.hold.
import { EvsipError, JsonRpcError } from "../../errors.js";
import type { ModuleDefinition, ModuleHost, ModuleInstance } from "../../core/module.js";
import type { RouteContext } from "../../core/context.js";
import { boolParam, customParam, intParam } from "../../core/params.js";
import type { JsonRpcApi, JsonRpcCallOptions, JsonRpcParamsConfig } from "./api-types.js";
import { JsonRpcClient, type Outcome } from "./jsonrpc-client.js";
import { ServerLink } from "./server-link.js";
import { parseServers } from "./servers-param.js";
import { checkJsonRpcTls, loadDialOptions, type JsonRpcTlsParams } from "./tls-dial.js";
import { normaliseParams, resultText } from "./wire.js";

/** A running jsonrpcc module; `client` is exposed for stats and tests. */
export interface JsonRpcModuleInstance extends ModuleInstance<JsonRpcApi> {
  readonly client: JsonRpcClient;
}

/** `$var(x)`, `$shv(x)`, any PV spelling, or a plain name meaning `$var(name)`. */
export function resultVarSpec(resultVar: string): string {
  return resultVar.startsWith("$") ? resultVar : `$var(${resultVar})`;
}

function outcomeError(o: Exclude<Outcome, { kind: "result" }>, method: string): JsonRpcError {
  if (o.kind === "timeout") return new JsonRpcError("ERR_JSONRPC_TIMEOUT", `jsonrpc ${method}: no answer in time`);
  if (o.kind === "error") return new JsonRpcError("ERR_JSONRPC_REMOTE", `jsonrpc ${method}: remote error`, { remote: o.error });
  return new JsonRpcError(o.code, `jsonrpc ${method}: not sent or connection lost (${o.code})`);
}

function createInstance(host: ModuleHost, params: JsonRpcParamsConfig): JsonRpcModuleInstance {
  const parsed = parseServers(params.servers);
  if (!parsed.ok) throw new EvsipError("ERR_JSONRPC_BAD_SERVERS", parsed.detail);
  const tls = params.tls ? loadDialOptions(params.tls) : undefined;
  const client = new JsonRpcClient({ ...params, servers: parsed.servers, logger: host.logger, tls });
  const engine = host.engine;
  const tm = host.tm;

  function api(ctx: RouteContext): JsonRpcApi {
    return {
      notification: (method, p) => client.notify(method, normaliseParams(p)),
      request(method, p, returnRoute, errorRoute, resultVar, opts) {
        for (const r of [returnRoute, errorRoute]) {
          if (!engine.hasRoute(r)) throw new EvsipError("ERR_ROUTE_NOT_FOUND", `jsonrpc.request: route ${r} is not defined`);
        }
        const spec = resultVarSpec(resultVar);
        engine.pvs.compile(spec); // an unknown PV throws here, before the transaction is touched
        if (ctx.kind === "event")
          throw new EvsipError(
            "ERR_TM_NO_TRANSACTION",
            "jsonrpc.request needs a SIP request route (it suspends the transaction)",
          );
        const ids = tm.suspend(ctx);
        if (!ids) return false;
        const resume = (o: Outcome): void => {
          const ok = o.kind === "result";
          const text = ok ? resultText(o.value) : o.kind === "error" ? resultText(o.error) : o.kind;
          try {
            // The variable is set in the continued route's own context, so `$var` works there (as
            // Kamailio sets it in the io process that then runs t_continue).
            tm.continue(ids.index, ids.label, ok ? returnRoute : errorRoute, (c) => c.setPv(spec, text));
          } catch (err) {
            host.logger.error({ err, code: "ERR_ROUTE_THREW" }, "jsonrpcc: resuming the transaction failed");
          }
        };
        const now = client.request(method, normaliseParams(p), opts?.timeout ?? params.timeout, resume, opts?.retryOnLoss);
        if (now) queueMicrotask(() => resume(now)); // after this script has unwound, as Kamailio's io process
        return ctx.exit();
      },
      call<T>(method: string, p?: Parameters<JsonRpcApi["call"]>[1], opts?: JsonRpcCallOptions): Promise<T> {
        // No server or no room: rejected at once, nothing held (no 100, no timer).
        const link = client.linkFor(method);
        if (!(link instanceof ServerLink)) return Promise.reject(outcomeError(link, method));
        let settle!: (o: Outcome) => void;
        let fail!: (err: unknown) => void;
        const answer = new Promise<Outcome>((resolve, reject) => ((settle = resolve), (fail = reject)));
        const value = answer.then((o) => (o.kind === "result" ? (o.value as T) : Promise.reject(outcomeError(o, method))));
        const held = ctx.kind === "event" ? value : tm.hold(ctx, value);
        // Held first, sent after: a call cancelled or answered while the route awaited something
        // else gets its rejection from hold() and sends the server nothing.
        if (ctx.kind !== "event" && !tm.held(ctx)) return held;
        try {
          client.send(link, method, normaliseParams(p), opts?.timeout ?? params.timeout, settle, opts?.retryOnLoss);
        } catch (err) {
          fail(err); // a RangeError for params past V8's string length: the hold ends, the route gets it
        }
        return held;
      },
    };
  }

  return {
    client,
    init: () => client.start(),
    api,
    stop: () => client.stop(),
    stats() {
      const per = (pick: (l: (typeof client.links)[number]) => number) => new Map(client.links.map((l) => [l.address, pick(l)]));
      const bad = new Map<string, number>();
      for (const l of client.links) for (const [c, n] of l.stats.badResponses) bad.set(c, (bad.get(c) ?? 0) + n);
      return {
        sent: per((l) => l.stats.sent),
        received: per((l) => l.stats.received),
        timeouts: per((l) => l.stats.timeouts),
        failedOnLoss: per((l) => l.stats.failedOnLoss),
        unknownIds: per((l) => l.stats.unknownIds),
        reconnects: per((l) => l.stats.reconnects),
        pending: per((l) => l.stats.pending),
        stalls: per((l) => l.stats.stalls),
        // How far behind a server is: what its queue and socket hold (a notification sink's backlog).
        bytesPending: per((l) => l.pendingBytes),
        lostBytes: per((l) => l.stats.lostBytes),
        connected: per((l) => (l.state === "connected" ? 1 : 0)),
        badResponses: bad,
        noServer: client.stats.noServer,
        retriedOnLoss: client.stats.retriedOnLoss,
        maxPendingRejected: client.stats.maxPendingRejected,
        notifications: client.stats.notifications,
      };
    },
  };
}

/** The jsonrpcc module definition (registered in src/builtin-modules.ts). */
export const jsonrpccModule: ModuleDefinition<JsonRpcParamsConfig, JsonRpcApi> = {
  name: "jsonrpcc",
  ctxName: "jsonrpc",
  params: {
    servers: customParam("", (v) => (typeof v === "string" ? undefined : 'must be a string like "host:9999,1"')),
    timeout: intParam(500, 1, 3_600_000, "answer timeout (ms)"),
    maxConnAttempts: intParam(-1, -1, 1_000_000, "consecutive failed connects before giving up; -1 forever"),
    maxMessageSize: intParam(1024 * 1024, 16, 256 * 1024 * 1024, "largest incoming frame (bytes)"),
    maxPending: intParam(10_000, 1, 10_000_000, "requests in flight"),
    reconnectBase: intParam(1000, 1, 600_000, "first reconnect delay (ms)"),
    reconnectMax: intParam(30_000, 1, 3_600_000, "longest reconnect delay (ms)"),
    connectTimeout: intParam(5000, 10, 600_000, "TCP connect timeout (ms)"),
    stallTimeout: intParam(
      5000,
      10,
      3_600_000,
      "a server with unsent bytes that reads nothing this long is dropped and reconnected (ms)",
    ),
    tls: customParam<JsonRpcTlsParams | undefined>(undefined, checkJsonRpcTls, "dial the servers over TLS"),
    retryOnLoss: boolParam(true, "a request whose connection drops goes to another connected server"),
    maxWriteBuffer: intParam(
      16 * 1024 * 1024,
      64 * 1024,
      1024 * 1024 * 1024,
      "bytes queued to one server before it is skipped (bytes)",
    ),
  },
  validate(p) {
    const r = parseServers(p.servers);
    return r.ok ? [] : [["servers", p.servers === "" ? "is required" : r.detail, "ERR_JSONRPC_BAD_SERVERS"]];
  },
  create: createInstance,
};
