// The open-loop UAC of the load tool. It sends the schedule's requests whatever the answers (from a
// thread of its own by default, send-thread.ts; or on this thread's timers), never retransmits,
// receives on one or several UDP sockets, and matches each response to its request by the top Via
// branch (then checks Call-ID and CSeq). Latency is send → final response, on
// process.hrtime.bigint(), in µs; provisionals are counted, not taken as answers. Flows:
//   options:      OPTIONS → final (the relay scenario);
//   invite-local: INVITE → final, then ACK (the router answers itself: async, rpc);
//   call:         INVITE → final; on 2xx an ACK and a BYE along the Record-Route set, BYE → final
//                 measured apart (the stateful proxy scenario).
// A request with no final `deadlineMs` after the last scheduled send is lost.
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { followRequest, ocFeedback, parseResponse, RunIds, type Leg, type ResponseInfo } from "./sip-wire.js";
import { pace, type PaceResult, type Schedule } from "./schedule.js";
import { udpDrops } from "./proc-usage.js";
import { closeSockets, connectedSockets } from "./tool-sockets.js";
import type { SendThreadInput, SendThreadMessage } from "./send-thread.js";
import { HELD_BACK, OC_VIA_PARAMS, OcClient } from "./oc-client.js";

export type Flow = "options" | "invite-local" | "call";

/**
 * How the schedule is paced: "thread", a sending thread of its own (even spacing, the same input
 * whatever the router); "timer", this thread's ~1 ms timers (small bursts, as SIPp sends).
 */
export type Pacer = "thread" | "timer";

export interface UacOptions {
  /** The router's UDP port on 127.0.0.1. */
  readonly port: number;
  readonly flow: Flow;
  /**
   * How many sockets, used round-robin: the main thread's, which receive every answer and send ACKs
   * and BYEs (with the thread pacer, the sending thread opens as many to send the requests from).
   */
  readonly sockets: number;
  /** SO_RCVBUF asked for each socket, bytes (the kernel caps it at net.core.rmem_max). */
  readonly rcvbuf: number;
  readonly deadlineMs: number;
  /** Unique per run: Call-IDs and branches carry it, so answers to an earlier run are strays. */
  readonly runId: string;
  /** Default "thread". */
  readonly pacer?: Pacer;
  /** Act as an RFC 7339 client: ask for overload feedback and hold back what it asks (oc-client.ts). */
  readonly oc?: boolean;
}

/** Per request index: its final's status (0: none) and latency (NaN: none). */
export interface Outcomes {
  readonly status: Uint16Array;
  readonly latencyUs: Float64Array;
  /** 1 when the request was sent (BYEs only after a 2xx); HELD_BACK when --oc's feedback held it back. */
  readonly sent: Uint8Array;
}

export interface UacResult {
  readonly schedule: Schedule;
  readonly pace: PaceResult;
  /** The scheduled requests (OPTIONS or INVITE). */
  readonly first: Outcomes;
  /** BYEs of the call flow (empty arrays otherwise). */
  readonly bye: Outcomes;
  readonly provisionals: number;
  /** Responses matching no pending request: duplicates, retransmitted 2xx, answers after a final. */
  readonly strays: number;
  /** Responses whose branch matched but whose Call-ID or CSeq did not. */
  readonly mismatched: number;
  /** Datagrams the kernel dropped at the tool's own sockets (receive buffer full). */
  readonly drops: number;
  /**
   * Datagrams that came back to the sending thread's sockets instead of the Via's: a router that
   * answers to the source port (rport forced) would look as if it lost every request. Should be 0.
   */
  readonly answersAtSender: number;
  /** When each first request left, on the monotonic clock (process.hrtime, ns): originNs + sentNs[i]. */
  readonly clock: { readonly originNs: number; readonly sentNs: Float64Array };
}

function outcomes(n: number, sent: Uint8Array = new Uint8Array(n)): Outcomes {
  return { status: new Uint16Array(n), latencyUs: new Float64Array(n).fill(Number.NaN), sent };
}

/** Where the sending thread writes: shared memory, read by this thread as answers arrive. */
function sharedArrays(n: number): { times: Float64Array; lag: Float64Array; sent: Uint8Array } {
  return {
    times: new Float64Array(new SharedArrayBuffer(8 * n)),
    lag: new Float64Array(new SharedArrayBuffer(8 * n)),
    sent: new Uint8Array(new SharedArrayBuffer(n)),
  };
}

/** A sending thread whose requests have all left. */
export interface PacedThread {
  readonly pace: PaceResult;
  /** Ends the thread once the run's answers are in: how many came back to its sockets. */
  finish(): Promise<number>;
}

/** Runs the schedule on a sending thread (send-thread.ts); resolves when its last request has left. */
export async function paceOnThread(input: SendThreadInput): Promise<PacedThread> {
  const w = new Worker(new URL("./send-thread.js", import.meta.url), { workerData: { sendThread: input } });
  // once() rejects on the worker's 'error'; an exit before its message must not hang the run.
  const exited = once(w, "exit").then(([code]) => {
    throw new Error(`the sending thread exited (code ${String(code)}) before its last request`);
  });
  exited.catch(() => undefined);
  const next = async (): Promise<SendThreadMessage> =>
    ((await Promise.race([once(w, "message"), exited])) as [SendThreadMessage])[0];
  try {
    const sent = await next();
    if (sent.kind !== "sent") throw new Error(`the sending thread said ${sent.kind} before its requests had left`);
    const finish = async (): Promise<number> => {
      try {
        w.postMessage("stop");
        const closed = await next();
        return closed.kind === "closed" ? closed.answersAtSender : 0;
      } finally {
        await w.terminate();
      }
    };
    return { pace: { startNs: sent.startNs, lagNs: new Float64Array(input.lagNs) }, finish };
  } catch (e) {
    await w.terminate();
    throw e;
  }
}

/** Runs `schedule` against the router and resolves when every request has its final or the deadline passed. */
export async function runUac(schedule: Schedule, o: UacOptions): Promise<UacResult> {
  const total = schedule.total;
  const pacer = o.pacer ?? "thread";
  const socks = await connectedSockets(o.sockets, o.port, o.rcvbuf);
  const ports = socks.map((s) => s.address().port);
  const oc = o.oc === true ? new OcClient() : undefined;
  const viaParams = oc === undefined ? {} : { viaParams: OC_VIA_PARAMS };
  const legs: Leg[] = ports.map((p) => ({ target: `127.0.0.1:${o.port}`, local: `127.0.0.1:${p}`, ...viaParams }));
  const shared = pacer === "thread" ? sharedArrays(total) : undefined;
  const first = outcomes(total, shared?.sent);
  const bye = outcomes(o.flow === "call" ? total : 0);
  const sentNs = shared?.times ?? new Float64Array(total);
  const byeSentNs = new Float64Array(o.flow === "call" ? total : 0);
  /** BYE branch → request index (the initial requests are named by their branch: RunIds.initialOf). */
  const byes = new Map<string, number>();
  const base = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - base);
  let finals = 0;
  /** Requests --oc held back (counted once pacing has ended): no final is coming for them. */
  let heldBack = 0;
  let provisionals = 0;
  let strays = 0;
  let mismatched = 0;
  let drained: (() => void) | undefined;
  const method = o.flow === "options" ? "OPTIONS" : "INVITE";
  const ids = new RunIds(o.runId);

  const send = (i: number, buf: Buffer): void => {
    socks[i % socks.length]?.send(buf);
  };

  const sendFirst = (i: number): void => {
    const buf = ids.initial(legs[i % legs.length] as Leg, method, i);
    sentNs[i] = now();
    if (oc?.holdBack() === true) {
      first.sent[i] = HELD_BACK;
      return;
    }
    first.sent[i] = 1;
    send(i, buf);
  };

  /** ACK of the INVITE's final; on a 2xx of a call, the BYE right after it. */
  const followUp = (i: number, r: ResponseInfo): void => {
    const leg = legs[i % legs.length] as Leg;
    const ok = r.status < 300;
    const common = { callId: ids.callId(i), fromTag: ids.fromTag(i), toTag: r.toTag };
    const uri = ok && r.contact !== undefined ? r.contact : `sip:load@${leg.target}`;
    const routes = ok ? [...r.recordRoutes].reverse() : [];
    send(i, followRequest(leg, { ...common, method: "ACK", cseq: 1, branch: ids.branch(i, ok ? "a" : "i"), uri, routes }));
    if (!ok || o.flow !== "call") return;
    const b = ids.branch(i, "b");
    byes.set(b, i);
    bye.sent[i] = 1;
    const buf = followRequest(leg, { ...common, method: "BYE", cseq: 2, branch: b, uri, routes });
    byeSentNs[i] = now();
    send(i, buf);
  };

  /**
   * The request a response answers: its index for an initial request, ~index (negative) for a BYE,
   * undefined for a stray. One number, not a pair: this runs for every response received.
   */
  const requestOf = (branch: string | undefined): number | undefined => {
    if (branch === undefined) return undefined;
    const i = ids.initialOf(branch);
    if (i !== undefined) return i < total && Atomics.load(first.sent, i) === 1 && first.status[i] === 0 ? i : undefined;
    const b = byes.get(branch);
    return b === undefined ? undefined : ~b;
  };

  const onMessage = (msg: Buffer): void => {
    const t = now();
    if (oc !== undefined) {
      const f = ocFeedback(msg);
      if (f !== undefined) oc.take(f);
    }
    const r = parseResponse(msg);
    const req = r === undefined ? undefined : requestOf(r.branch);
    if (r === undefined || req === undefined) {
      strays++;
      return;
    }
    const isBye = req < 0;
    const i = isBye ? ~req : req;
    if (!ids.isCallIdOf(r.callId, i) || r.cseqMethod !== (isBye ? "BYE" : method)) {
      mismatched++;
      return;
    }
    if (r.status < 200) {
      provisionals++;
      return;
    }
    const out = isBye ? bye : first;
    out.status[i] = r.status;
    out.latencyUs[i] = (t - (isBye ? (byeSentNs[i] ?? 0) : (sentNs[i] ?? 0))) / 1000;
    if (isBye) byes.delete(r.branch as string);
    else finals++;
    if (!isBye && method === "INVITE") followUp(i, r);
    if (finals + heldBack === total && byes.size === 0) drained?.(); // set only once pacing has ended
  };
  for (const s of socks) s.on("message", onMessage);

  try {
    const sender: PacedThread =
      shared === undefined
        ? { pace: await pace(schedule, sendFirst), finish: () => Promise.resolve(0) }
        : await paceOnThread({
            segments: schedule.segments,
            port: o.port,
            legs,
            method,
            runId: o.runId,
            baseNs: base,
            sentNs: shared.times.buffer as SharedArrayBuffer,
            lagNs: shared.lag.buffer as SharedArrayBuffer,
            sent: shared.sent.buffer as SharedArrayBuffer,
            ...(oc === undefined ? {} : { oc: oc.shared }),
          });
    if (oc !== undefined) for (let i = 0; i < total; i++) if (Atomics.load(first.sent, i) === HELD_BACK) heldBack++;
    if (finals + heldBack < total || byes.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.deadlineMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const answersAtSender = await sender.finish();
    return {
      schedule,
      pace: sender.pace,
      first,
      bye,
      provisionals,
      strays,
      mismatched,
      drops: udpDrops(ports),
      answersAtSender,
      clock: { originNs: Number(base), sentNs },
    };
  } finally {
    await closeSockets(socks);
  }
}
