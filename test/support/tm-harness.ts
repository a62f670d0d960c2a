// A TransactionLayer on a real UDP socket (127.0.0.1, port 0) with a minimal "core": requests
// tm does not absorb go to the test's `route`, unmatched responses are recorded. The transport is
// a plain dgram socket that replies to the packet's source (symmetric, like rport).
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { pino, type Logger } from "pino";
import { parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import {
  TransactionLayer,
  type ClientTransaction,
  type ServerTransaction,
  type TmCallbacks,
  type TmOptions,
  type TmSource,
} from "../../src/tm/index.js";
import { SipPeer, sipText } from "./sip-peer.js";

export interface TmHarness {
  readonly tm: TransactionLayer;
  readonly socket: Socket;
  readonly port: number;
  /** The request route: called for every request tm answers "new". */
  route: (msg: SipMessageLike, src: TmSource) => void;
  /** Replace to implement the callbacks; the layer calls through these fields. */
  readonly callbacks: TmCallbacks;
  readonly unmatched: SipMessageLike[];
  /** Relays st to `peer` with our Via (branch from tm) on top. */
  relayTo(st: ServerTransaction, peer: SipPeer): ClientTransaction;
  /** Makes the route relay every new request to `peer` statefully. */
  relayAllTo(peer: SipPeer): void;
  close(): void;
}

/** A harness on its own socket; silent unless given a logger. */
export async function startTm(opts: TmOptions & { logger?: Logger } = {}): Promise<TmHarness> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const port = socket.address().port;
  const callbacks: TmCallbacks = {};
  const tm = new TransactionLayer(
    {
      ...opts,
      logger: opts.logger ?? pino({ level: "silent" }),
      transport: {
        send: (buf, dest) => {
          socket.send(buf, dest.port, dest.addr);
          return true;
        },
        replyDestination: (_req, src) => ({ proto: "udp", addr: src.remoteAddr, port: src.remotePort }),
      },
    },
    {
      onReply: (st, b, res) => callbacks.onReply?.(st, b, res),
      onFailure: (st, f) => callbacks.onFailure?.(st, f),
      onCancel: (st, c) => callbacks.onCancel?.(st, c),
      onSent: (st, status) => callbacks.onSent?.(st, status),
    },
  );
  const h: TmHarness = {
    tm,
    socket,
    port,
    route: () => undefined,
    callbacks,
    unmatched: [],
    relayTo(st, peer) {
      const r = tm.relay(st, { proto: "udp", addr: "127.0.0.1", port: peer.port }, (branch) =>
        st.msg.rewrite({ prepend: [`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`] }),
      );
      if (!r.ok) throw new Error(`relay failed: ${r.code}`);
      return r;
    },
    relayAllTo(peer) {
      h.route = (msg, src) => {
        const st = tm.create(msg, src);
        if (!st.ok) throw new Error(`create failed: ${st.code}`);
        h.relayTo(st, peer);
      };
    },
    close() {
      tm.stop();
      socket.close();
    },
  };
  socket.on("message", (buf, rinfo) => {
    const r = parseMessage(buf);
    if (!r.ok) return;
    const src: TmSource = {
      proto: "udp",
      remoteAddr: rinfo.address,
      remotePort: rinfo.port,
      localAddr: "127.0.0.1",
      localPort: port,
      connId: 0,
    };
    if (r.msg.isRequest) {
      if (tm.handleRequest(r.msg, src) === "new") h.route(r.msg, src);
    } else if (tm.handleResponse(r.msg, src) === "unmatched") h.unmatched.push(r.msg);
  });
  return h;
}

/** Runs `fn` with a harness, a caller and a callee on real sockets, and closes all three after it. */
export async function withTm(opts: TmOptions, fn: (h: TmHarness, uac: SipPeer, uas: SipPeer) => Promise<void>): Promise<void> {
  const h = await startTm(opts);
  const uac = await SipPeer.open();
  const uas = await SipPeer.open();
  try {
    await fn(h, uac, uas);
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
}

/** A UAC request line set for `method` from `uac` to the tm at `port`. */
export function request(
  method: string,
  opts: { uacHostport: string; branch: string; callId: string; cseq?: number; toTag?: string; ruri?: string },
): string[] {
  const lines = [
    `${method} ${opts.ruri ?? "sip:bob@example.com"} SIP/2.0`,
    `Via: SIP/2.0/UDP ${opts.uacHostport};branch=${opts.branch};rport`,
    "Max-Forwards: 70",
    "From: <sip:alice@example.com>;tag=a1",
    `To: <sip:bob@example.com>${opts.toTag === undefined ? "" : `;tag=${opts.toTag}`}`,
    `Call-ID: ${opts.callId}`,
    `CSeq: ${opts.cseq ?? 1} ${method === "CANCEL" || method === "ACK" ? method : method}`,
    `Contact: <sip:alice@${opts.uacHostport}>`,
  ];
  return lines;
}

/** A response from a UAS peer to the request it received (all Vias copied, To tag added). */
export function answer(req: SipMessageLike, status: number, reason: string, toTag = "b1"): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.headerValues("via")) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.header("from") ?? ""}`);
  const to = req.header("to") ?? "";
  lines.push(`To: ${status > 100 && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.header("cseq") ?? ""}`, "Content-Length: 0");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Sends an INVITE from `uac` and resolves with the transaction the route created for it. */
export async function inviteTx(
  h: TmHarness,
  uac: SipPeer,
  callId: string,
  branch = uac.branch(),
  cseq = 1,
): Promise<ServerTransaction> {
  const got = new Promise<ServerTransaction>((resolve) => {
    h.route = (msg, src) => {
      const st = h.tm.create(msg, src);
      if (!st.ok) throw new Error(`create failed: ${st.code}`);
      resolve(st);
    };
  });
  uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId, cseq })), h.port);
  return got;
}
