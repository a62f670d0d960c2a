// The open-loop UAC of the load tool. It sends the schedule's requests over one or several UDP
// sockets whatever the answers, never retransmits, and matches each response to its request by the
// top Via branch (then checks Call-ID and CSeq). Latency is send → final response, on
// process.hrtime.bigint(), in µs; provisionals are counted, not taken as answers. Flows:
//   options:      OPTIONS → final (the relay scenario);
//   invite-local: INVITE → final, then ACK (the router answers itself: async, rpc);
//   call:         INVITE → final; on 2xx an ACK and a BYE along the Record-Route set, BYE → final
//                 measured apart (the stateful proxy scenario).
// A request with no final `deadlineMs` after the last scheduled send is lost.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { followRequest, initialRequest, parseResponse, type Leg, type ResponseInfo } from "./sip-wire.js";
import { pace, type PaceResult, type Schedule } from "./schedule.js";
import { udpDrops } from "./proc-usage.js";

export type Flow = "options" | "invite-local" | "call";

export interface UacOptions {
  /** The router's UDP port on 127.0.0.1. */
  readonly port: number;
  readonly flow: Flow;
  /** How many sending sockets, used round-robin. */
  readonly sockets: number;
  /** SO_RCVBUF asked for each socket, bytes (the kernel caps it at net.core.rmem_max). */
  readonly rcvbuf: number;
  readonly deadlineMs: number;
  /** Unique per run: Call-IDs and branches carry it, so answers to an earlier run are strays. */
  readonly runId: string;
  readonly spin?: boolean;
}

/** Per request index: its final's status (0: none) and latency (NaN: none). */
export interface Outcomes {
  readonly status: Uint16Array;
  readonly latencyUs: Float64Array;
  /** 1 when the request was sent (always for the first request; BYEs only after a 2xx). */
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
}

function outcomes(n: number): Outcomes {
  return { status: new Uint16Array(n), latencyUs: new Float64Array(n).fill(Number.NaN), sent: new Uint8Array(n) };
}

/** Sockets connected to the router: a send then skips the address lookup (the tool's CPU per request counts). */
async function openSockets(n: number, rcvbuf: number, port: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let k = 0; k < n; k++) {
    const s = createSocket({ type: "udp4", recvBufferSize: rcvbuf });
    s.bind(0, "127.0.0.1");
    await once(s, "listening");
    s.connect(port, "127.0.0.1");
    await once(s, "connect");
    s.on("error", () => undefined); // a send error (ECONNREFUSED) shows as a lost request
    out.push(s);
  }
  return out;
}

/** Runs `schedule` against the router and resolves when every request has its final or the deadline passed. */
export async function runUac(schedule: Schedule, o: UacOptions): Promise<UacResult> {
  const total = schedule.total;
  const socks = await openSockets(o.sockets, o.rcvbuf, o.port);
  const ports = socks.map((s) => s.address().port);
  const legs: Leg[] = ports.map((p) => ({ target: `127.0.0.1:${o.port}`, local: `127.0.0.1:${p}` }));
  const first = outcomes(total);
  const bye = outcomes(o.flow === "call" ? total : 0);
  const sentNs = new Float64Array(total);
  const byeSentNs = new Float64Array(o.flow === "call" ? total : 0);
  /** branch → request index × 2 + (0: first request, 1: BYE). */
  const pending = new Map<string, number>();
  const base = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - base);
  let provisionals = 0;
  let strays = 0;
  let mismatched = 0;
  let drained: (() => void) | undefined;
  const method = o.flow === "options" ? "OPTIONS" : "INVITE";
  const callId = (i: number): string => `${o.runId}-${i}`;
  const fromTag = (i: number): string => `f${o.runId}${i}`;
  const branch = (i: number, what: string): string => `z9hG4bK${o.runId}x${i}${what}`;

  const send = (i: number, buf: Buffer): void => {
    socks[i % socks.length]?.send(buf);
  };

  const sendFirst = (i: number): void => {
    const b = branch(i, "i");
    pending.set(b, i * 2);
    first.sent[i] = 1;
    const buf = initialRequest(legs[i % legs.length] as Leg, { method, branch: b, callId: callId(i), fromTag: fromTag(i) });
    sentNs[i] = now();
    send(i, buf);
  };

  /** ACK of the INVITE's final; on a 2xx of a call, the BYE right after it. */
  const followUp = (i: number, r: ResponseInfo): void => {
    const leg = legs[i % legs.length] as Leg;
    const ok = r.status < 300;
    const common = { callId: callId(i), fromTag: fromTag(i), toTag: r.toTag };
    const uri = ok && r.contact !== undefined ? r.contact : `sip:load@${leg.target}`;
    const routes = ok ? [...r.recordRoutes].reverse() : [];
    send(i, followRequest(leg, { ...common, method: "ACK", cseq: 1, branch: branch(i, ok ? "a" : "i"), uri, routes }));
    if (!ok || o.flow !== "call") return;
    const b = branch(i, "b");
    pending.set(b, i * 2 + 1);
    bye.sent[i] = 1;
    const buf = followRequest(leg, { ...common, method: "BYE", cseq: 2, branch: b, uri, routes });
    byeSentNs[i] = now();
    send(i, buf);
  };

  const onMessage = (msg: Buffer): void => {
    const t = now();
    const r = parseResponse(msg);
    const key = r?.branch === undefined ? undefined : pending.get(r.branch);
    if (r === undefined || key === undefined) {
      strays++;
      return;
    }
    const i = key >> 1;
    const isBye = (key & 1) === 1;
    if (r.callId !== callId(i) || r.cseqMethod !== (isBye ? "BYE" : method)) {
      mismatched++;
      return;
    }
    if (r.status < 200) {
      provisionals++;
      return;
    }
    pending.delete(r.branch as string);
    const out = isBye ? bye : first;
    out.status[i] = r.status;
    out.latencyUs[i] = (t - (isBye ? (byeSentNs[i] ?? 0) : (sentNs[i] ?? 0))) / 1000;
    if (!isBye && method === "INVITE") followUp(i, r);
    if (pending.size === 0) drained?.();
  };
  for (const s of socks) s.on("message", onMessage);

  try {
    const paced = await pace(schedule, sendFirst, { spin: o.spin === true });
    if (pending.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.deadlineMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return { schedule, pace: paced, first, bye, provisionals, strays, mismatched, drops: udpDrops(ports) };
  } finally {
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
