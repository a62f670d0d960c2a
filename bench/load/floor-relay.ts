// The floor of the relay scenario: the least one Node event loop can do per relayed OPTIONS, run in
// evsip's place (EVSIP_LOAD_BIN=dist/bench/load/floor-relay.js, bench/README.md "The floor"). It
// answers 200 by copying the request's header lines into a reused buffer after the status line,
// and at the end of the loop turn writes the same evapi event evsip's bench app relays
// (`{"event":"options","ci":…}`) to every connected consumer. No parsing beyond finding the
// Call-ID and the top Via's port, and little garbage of its own (2.2 KB per request at 2,000/s, nearly
// all Node's: the datagram, dgram's send request, the stream write). Not a router, a calibration:
// what evsip measures above it is evsip's own; what the floor measures above Kamailio is one event
// loop's.
//
// Invoked as the load tool invokes evsip: `node floor-relay.js run <app> --listen udp:HOST:PORT …`,
// with EVSIP_LOAD_EVAPI=host:port for the consumers to connect to.
import { createSocket } from "node:dgram";
import { createServer, type Socket } from "node:net";
import { replyPort } from "./uas.js";

const STATUS = Buffer.from("SIP/2.0 200 OK\r\n", "latin1");
const CALL_ID = Buffer.from("\nCall-ID:", "latin1");
const EVENT_HEAD = Buffer.from('{"event":"options","ci":"', "latin1");
const EVENT_TAIL = Buffer.from('"}', "latin1");

/** `--listen udp:HOST:PORT` of the command line. */
function listenAddress(argv: readonly string[]): { host: string; port: number } {
  const spec = argv[argv.indexOf("--listen") + 1] ?? "";
  const m = /^udp:([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`floor-relay: --listen udp:HOST:PORT expected, got "${spec}"`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** Writes `{"event":"options","ci":"<Call-ID>"}` as a netstring into out; returns its length. */
function eventFrame(msg: Buffer, out: Buffer): number {
  const c = msg.indexOf(CALL_ID);
  let s = c < 0 ? 0 : c + CALL_ID.length;
  while (msg[s] === 0x20) s++;
  let e = s;
  while (e < msg.length && msg[e] !== 0x0d) e++;
  const len = EVENT_HEAD.length + (e - s) + EVENT_TAIL.length;
  let o = out.write(`${len}:`, 0, "latin1");
  o += EVENT_HEAD.copy(out, o);
  o += msg.copy(out, o, s, e);
  o += EVENT_TAIL.copy(out, o);
  out[o++] = 0x2c;
  return o;
}

function main(): void {
  const { host, port } = listenAddress(process.argv);
  const [evHost, evPort] = (process.env.EVSIP_LOAD_EVAPI ?? "").split(":");
  const consumers = new Set<Socket>();
  createServer((s) => {
    consumers.add(s);
    s.on("close", () => consumers.delete(s));
    s.on("error", () => undefined);
    s.resume();
  }).listen(Number(evPort), evHost);

  const reply = Buffer.alloc(65_536);
  STATUS.copy(reply);
  // Events of one loop turn, written at its end as evsip does (one write per turn); written at once
  // should a turn fill the buffer (it holds thousands, and a turn reads at most a few dozen datagrams).
  const events = Buffer.alloc(1 << 20);
  const eventRoom = 65_536 + 64;
  let evLen = 0;
  const flush = (): void => {
    if (evLen === 0) return;
    const frames = Buffer.from(events.subarray(0, evLen));
    evLen = 0;
    for (const c of consumers) c.write(frames);
  };
  const udp = createSocket("udp4");
  udp.on("error", (e) => console.error(`floor-relay: ${e.message}`));
  udp.on("message", (msg: Buffer, rinfo) => {
    const bodyAt = msg.indexOf(0x0a) + 1;
    const n = STATUS.length + msg.length - bodyAt;
    // The reply buffer is reused while the socket has nothing queued: a send to an address leaves
    // at the next tick, before the next datagram is read, unless the kernel refused it for now.
    const out = udp.getSendQueueCount() === 0 ? reply : Buffer.allocUnsafe(n);
    if (out !== reply) STATUS.copy(out);
    msg.copy(out, STATUS.length, bodyAt);
    // The load tool's own reader of the top Via (its UAS answers the same way).
    udp.send(out, 0, n, replyPort(msg, rinfo.port), "127.0.0.1");
    if (evLen > events.length - eventRoom) flush();
    if (evLen === 0) setImmediate(flush);
    evLen += eventFrame(msg, events.subarray(evLen));
  });
  udp.bind(port, host);
  process.on("SIGTERM", () => process.exit(0));
}

main();
