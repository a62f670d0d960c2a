// The load tool as an RFC 7339 client (--oc): its requests' Via carry `oc;oc-algo="loss"`, and the
// feedback in a response's top Via (`oc=<percent>`, for `oc-validity` ms, newer `oc-seq` only) makes
// it hold back that share of its new requests, at random (the loss algorithm), as an SBC that
// supports it would: a held-back request is not sent, and counts as held back, not lost. In-dialog
// requests (ACK, BYE) always go.
//
// The receiving thread takes the feedback, the sending thread asks before each new request: they
// share two numbers, the reduction and until when it holds (ns on process.hrtime, one clock for
// both threads).
import type { OcFeedback } from "./sip-wire.js";

/** What the tool adds to its Via with --oc. */
export const OC_VIA_PARAMS = ';oc;oc-algo="loss"';

/** Value of Outcomes.sent for a request the caller held back (1: sent). */
export const HELD_BACK = 2;

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export class OcClient {
  /** Float64Array(2): the reduction (%), until when (ns) it holds. */
  readonly shared: SharedArrayBuffer;
  readonly #state: Float64Array;
  #lastSeq = Number.NEGATIVE_INFINITY;

  constructor(shared = new SharedArrayBuffer(16)) {
    this.shared = shared;
    this.#state = new Float64Array(shared);
  }

  /** Takes a response's feedback, unless an earlier one (a lower oc-seq) arrived late. */
  take(f: OcFeedback): void {
    if (f.seq < this.#lastSeq) return;
    this.#lastSeq = f.seq;
    this.#state[1] = nowNs() + f.validityMs * 1e6;
    this.#state[0] = f.reduction;
  }

  /** Whether the next new request is held back: the reduction in force, drawn at random. */
  holdBack(): boolean {
    const reduction = this.#state[0] ?? 0;
    return reduction > 0 && nowNs() < (this.#state[1] ?? 0) && Math.random() * 100 < reduction;
  }
}
