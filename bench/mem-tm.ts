// Memory harness, not a bench case: what one finished call leaves held while late copies of its
// INVITE may still come, in the shape of the async scenario (INVITE from the wire, then our own 200,
// then its ACK). N such calls go through one TransactionLayer; heap and external (Buffer) bytes
// are measured after forced GCs, minus the same after stop() forgot them all. Needs --expose-gc:
//   node --expose-gc dist/bench/mem-tm.js [transactions]
import { pino } from "pino";
import { parseMessage } from "../src/sip/index.js";
import { TransactionLayer, type TmSource } from "../src/tm/index.js";

const N = Number(process.argv[2] ?? 20000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const src: TmSource = {
  proto: "udp",
  remoteAddr: "127.0.0.1",
  remotePort: 5070,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}

function wire(text: string): Buffer {
  return Buffer.from(text.replace(/\n/g, "\r\n"));
}

function invite(n: number): Buffer {
  return wire(
    `INVITE sip:+4420${n}@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-mem-${n};rport\n` +
      `From: sipp <sip:sipp@127.0.0.1:5070>;tag=${n}SIPpTag00${n}\nTo: <sip:+4420${n}@127.0.0.1:5060>\n` +
      `Call-ID: ${n}-12345@127.0.0.1\nCSeq: 1 INVITE\nContact: sip:sipp@127.0.0.1:5070\nMax-Forwards: 70\n` +
      `Subject: Performance Test\nContent-Type: application/sdp\nContent-Length: 0\n\n`,
  );
}

function ack(n: number, toTag: string): Buffer {
  return wire(
    `ACK sip:+4420${n}@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ack-${n};rport\n` +
      `From: sipp <sip:sipp@127.0.0.1:5070>;tag=${n}SIPpTag00${n}\nTo: <sip:+4420${n}@127.0.0.1:5060>;tag=${toTag}\n` +
      `Call-ID: ${n}-12345@127.0.0.1\nCSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n`,
  );
}

const tm = new TransactionLayer({
  logger: pino({ level: "silent" }),
  transport: { send: () => true, replyDestination: () => ({ proto: "udp", addr: "127.0.0.1", port: 5070 }) },
});
const before = settle();
for (let n = 0; n < N; n++) {
  const r = parseMessage(invite(n));
  if (!r.ok) throw new Error(r.detail);
  tm.handleRequest(r.msg, src);
  const st = tm.create(r.msg, src);
  if (!st.ok) throw new Error(st.detail);
  tm.suspend(st);
  tm.continue(st.index, st.label);
  tm.reply(st, 200, "OK");
  const a = parseMessage(ack(n, st.toTag));
  if (a.ok) tm.handleRequest(a.msg, src);
}
const held = settle();
const live = tm.stats.serverTransactions;
tm.stop();
const freed = settle();
// Each call's INVITE transaction ends at its ACK, leaving a tombstone of its key for T4: what is
// held is the tombstones (plus any transaction still waiting, counted in `live`).
const per = (k: "heapUsed" | "external" | "rss"): string => ((held[k] - freed[k]) / N).toFixed(0);
console.log(
  `${N} async-shaped calls answered and ACKed, ${live} transactions still live; held per call: heap ${per("heapUsed")} B, external ${per("external")} B`,
);
console.log(
  `heap before ${(before.heapUsed / 1e6).toFixed(1)} MB, held ${(held.heapUsed / 1e6).toFixed(1)} MB, freed ${(freed.heapUsed / 1e6).toFixed(1)} MB`,
);
