// The async convention of the event API (docs/evapi.md "Async relay"): a reply echoes the event's
// transaction index and label. This copies those fields (names configurable, since integrations
// such as CGRateS use their own) from the event into the reply, and builds the listener behind
// EvapiClient.answer(): sync or async handlers, errors reported, never an unhandled rejection, and
// at most `maxConcurrent` async handlers at once (the client stops reading while at the cap).

/** Options of EvapiClient.answer(). */
export interface AnswerOptions {
  /** Fields copied from the event into the reply. Default ["tindex", "tlabel"]. */
  readonly fields?: readonly string[];
  /**
   * Async handlers running at once. At the cap the client stops reading the socket; events already
   * received wait (at most one read's worth). Default 64.
   */
  readonly maxConcurrent?: number;
}

/** Default cap of concurrently running async answer handlers. */
export const DEFAULT_MAX_CONCURRENT_ANSWERS = 64;

/** Default correlation fields: what `ctx.evapi.asyncRelay` examples and `ctx.evapi.request` use. */
export const DEFAULT_ANSWER_FIELDS: readonly string[] = ["tindex", "tlabel"];

/**
 * Returns `reply` with each of `fields` copied from `event` when the event has it and the reply
 * does not set it. Non-object events or replies are returned unchanged.
 */
export function echoCorrelation(event: unknown, reply: unknown, fields: readonly string[] = DEFAULT_ANSWER_FIELDS): unknown {
  if (event === null || typeof event !== "object" || reply === null || typeof reply !== "object" || Array.isArray(reply)) {
    return reply;
  }
  const src = event as Record<string, unknown>;
  const out: Record<string, unknown> = { ...(reply as Record<string, unknown>) };
  for (const f of fields) {
    if (Object.hasOwn(src, f) && !Object.hasOwn(out, f)) out[f] = src[f];
  }
  return out;
}

/** What an answer listener needs from its client. */
export interface AnswerSink {
  send(reply: string | object): unknown;
  fail(error: unknown): void;
  /** Stop reading the socket (the listener is at its cap) until the matching release(). */
  hold(): void;
  release(): void;
}

/** An `event` listener and the function that detaches its state (queued events, read hold). */
export interface AnswerListener {
  readonly listener: (event: unknown) => void;
  dispose(): void;
}

/**
 * Builds an `event` listener that runs `handler`, awaits it if it returns a promise, and sends the
 * reply (a string as is; an object with the correlation fields copied). Errors go to `sink.fail`.
 * Beyond `maxConcurrent` pending async handlers, events queue and `sink.hold()` pauses reading.
 */
export function createAnswerListener(
  handler: (event: unknown) => unknown,
  fields: readonly string[],
  sink: AnswerSink,
  maxConcurrent = DEFAULT_MAX_CONCURRENT_ANSWERS,
): AnswerListener {
  const cap = Math.max(1, maxConcurrent);
  const queue: unknown[] = [];
  let running = 0;
  let held = false;
  let disposed = false;

  const reply = (event: unknown, r: unknown): void => {
    if (r === undefined) return;
    try {
      sink.send(typeof r === "string" ? r : (echoCorrelation(event, r, fields) as object));
    } catch (e) {
      sink.fail(e);
    }
  };
  const settled = (): void => {
    running--;
    while (!disposed && queue.length > 0 && running < cap) run(queue.shift());
    if (held && queue.length === 0 && running < cap) {
      held = false;
      sink.release();
    }
  };
  const run = (event: unknown): void => {
    let r: unknown;
    try {
      r = handler(event);
    } catch (e) {
      sink.fail(e);
      return;
    }
    if (!isThenable(r)) {
      reply(event, r);
      return;
    }
    running++;
    void Promise.resolve(r)
      .then(
        (value: unknown) => reply(event, value),
        (e: unknown) => sink.fail(e),
      )
      .finally(settled);
  };
  return {
    listener: (event) => {
      if (running < cap && queue.length === 0) {
        run(event);
        return;
      }
      queue.push(event);
      if (!held) {
        held = true;
        sink.hold();
      }
    },
    dispose() {
      disposed = true;
      queue.length = 0;
      if (held) {
        held = false;
        sink.release();
      }
    },
  };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}
