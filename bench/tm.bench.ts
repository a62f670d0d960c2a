// Transaction table micro benchmarks: create + terminate a server transaction (key, hash index,
// label, timers, two Map inserts and deletes), absorb a retransmission among 10 000 live ones
// (key + Map lookup + re-send), and the raw hashIndex / serverKey costs. Messages are parsed once
// outside the timed bodies, so lazily decoded headers are already cached.
import { pino } from "pino";
import { parseMessage } from "../src/sip/index.js";
import type { SipMessageLike } from "../src/sip/types.js";
import { hashIndex, TransactionLayer, type TmSource } from "../src/tm/index.js";
import { serverKey } from "../src/tm/match-key.js";
import type { BenchCase } from "./types.js";

const N = 10000;
const src: TmSource = {
  proto: "udp",
  remoteAddr: "127.0.0.1",
  remotePort: 5070,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

function invite(n: number): SipMessageLike {
  const text =
    `INVITE sip:bob@example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-bench-${n};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a${n}\r\nTo: <sip:bob@example.com>\r\n` +
    `Call-ID: bench-${n}@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.detail);
  return r.msg;
}

function layer(): TransactionLayer {
  return new TransactionLayer({
    logger: pino({ level: "silent" }),
    transport: { send: () => true, replyDestination: () => ({ proto: "udp", addr: "127.0.0.1", port: 5070 }) },
  });
}

const fresh = Array.from({ length: N }, (_, n) => invite(n));
for (const m of fresh) serverKey(m, "INVITE"); // warm the lazy getters
const churn = layer();
let i = 0;

const live = layer();
const retrans = Array.from({ length: N }, (_, n) => invite(N + n));
for (const m of retrans) {
  const st = live.create(m, src);
  if (st.ok) live.reply(st, 180, "Ringing");
}
let j = 0;

export const benches: BenchCase[] = [
  {
    name: "tm create+terminate server transaction",
    fn: () => {
      const st = churn.create(fresh[i++ % N] as SipMessageLike, src);
      if (st.ok) st.terminate();
    },
  },
  {
    name: "tm handleRequest retransmission (10k live)",
    fn: () => {
      live.handleRequest(retrans[j++ % N] as SipMessageLike, src);
    },
  },
  {
    name: "tm hashIndex",
    fn: () => {
      hashIndex("a84b4c76e66710@pc33.atlanta.com", i++);
    },
  },
  {
    name: "tm serverKey (cached Via)",
    fn: () => {
      serverKey(fresh[i++ % N] as SipMessageLike, "INVITE");
    },
  },
];
