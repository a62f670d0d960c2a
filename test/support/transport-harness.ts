// Helpers for transport tests: a TransportLayer on loopback with port 0 whose deliveries land in
// awaitable queues, a capture logger, and event waits with a timeout (never sleeps).
import { EventEmitter, once } from "node:events";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import type { ErrorCode } from "../../src/errors.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import { parseListen } from "../../src/transport/listen-spec.js";
import { TransportLayer } from "../../src/transport/transport-layer.js";
import type { Source, TransportOptions } from "../../src/transport/types.js";
import { parseMessage } from "../../src/sip/index.js";

/** An async queue: push from callbacks, await next() in the test. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  get size(): number {
    return this.items.length;
  }
  next(timeoutMs = 5000): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`Inbox.next timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (x: T): void => {
        clearTimeout(timer);
        resolve(x);
      };
      this.waiters.push(done);
    });
  }
}

/** A debug-level pino logger whose lines are kept as parsed objects, and can be waited for by code. */
export interface CapturedLog {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** Resolves with the first `n` lines logged with `code` (those already logged count); rejects after 5 s. */
  withCode: (code: string, n?: number) => Promise<Record<string, unknown>[]>;
}

export function captureLogger(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const added = new EventEmitter();
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      added.emit("line");
      cb();
    },
  });
  const withCode = async (code: string, n = 1): Promise<Record<string, unknown>[]> => {
    const found = (): Record<string, unknown>[] => lines.filter((l) => l.code === code);
    const signal = AbortSignal.timeout(5000);
    try {
      while (found().length < n) await once(added, "line", { signal });
    } catch (e) {
      // The bare AbortError would not say what was awaited.
      throw new Error(`${found().length} of ${n} log lines with ${code} in 5 s`, { cause: e });
    }
    return found().slice(0, n);
  };
  return { logger: pino({ level: "debug" }, stream), lines, withCode };
}

export interface Harness {
  layer: TransportLayer;
  messages: Inbox<{ msg: SipMessageLike; src: Source }>;
  errors: Inbox<{ code: ErrorCode; detail: string; src: Source; raw: Buffer }>;
  lines: Record<string, unknown>[];
  /** See CapturedLog.withCode. */
  withCode: CapturedLog["withCode"];
}

/** Starts a TransportLayer on the given specs (e.g. "udp:127.0.0.1:0"). Remember `await layer.stop()`. */
export async function startLayer(specs: readonly string[], extra: Partial<TransportOptions> = {}): Promise<Harness> {
  const { logger, lines, withCode } = captureLogger();
  const messages = new Inbox<{ msg: SipMessageLike; src: Source }>();
  const errors = new Inbox<{ code: ErrorCode; detail: string; src: Source; raw: Buffer }>();
  const layer = new TransportLayer(
    { listen: specs.map(parseListen), logger, parse: parseMessage, ...extra },
    (msg, src) => messages.push({ msg, src }),
    (code, detail, src, raw) => errors.push({ code, detail, src, raw }),
  );
  await layer.start();
  return { layer, messages, errors, lines, withCode };
}

/** A started layer on `spec` whose messages go to `onMessage` (given the layer), logging to a captured log. */
export async function startHandledLayer(
  spec: string,
  onMessage: (msg: SipMessageLike, layer: TransportLayer) => void,
): Promise<{ layer: TransportLayer; lines: Record<string, unknown>[] }> {
  const { logger, lines } = captureLogger();
  const layer: TransportLayer = new TransportLayer({ listen: [parseListen(spec)], logger, parse: parseMessage }, (msg) =>
    onMessage(msg, layer),
  );
  await layer.start();
  return { layer, lines };
}

/** A started layer on `spec` whose handler records each Call-ID and throws for "boom" (a bug of ours). */
export async function startThrowingLayer(
  spec: string,
): Promise<{ layer: TransportLayer; seen: Inbox<string>; lines: Record<string, unknown>[] }> {
  const seen = new Inbox<string>();
  const { layer, lines } = await startHandledLayer(spec, (msg) => {
    seen.push(msg.callId);
    if (msg.callId === "boom") throw new Error("handler bug");
  });
  return { layer, seen, lines };
}

/** Waits for `event` on `emitter`, failing after timeoutMs. */
export async function waitEvent(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) });
}

/** Whether ::1 can be bound on this machine. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const { createServer } = await import("node:net");
  const s = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(0, "::1", () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}
