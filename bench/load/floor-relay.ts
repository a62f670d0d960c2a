// The floor of the relay and async scenarios: the least one Node event loop can do per relayed
// OPTIONS, and per async call, run in evsip's place (EVSIP_LOAD_BIN=dist/bench/load/floor-relay.js,
// bench/README.md "The floor"). Not a router, a calibration: what evsip measures above it is
// evsip's own; what the floor measures above Kamailio is one event loop's.
//
// An OPTIONS is answered 200 by copying the request's header lines into a reused buffer after the
// status line, and at the end of the loop turn the same evapi event evsip's bench app relays
// (`{"event":"options","ci":…}`) goes to every connected consumer. No parsing beyond finding the
// Call-ID and the top Via's port, and little garbage of its own (2.2 KB per request at 2,000/s,
// nearly all Node's: the datagram, dgram's send request, the stream write).
//
// An INVITE is kept (its datagram, by a counter standing for tindex) and announced as the bench
// app's async event (`{"event":"invite","tindex":…,"tlabel":1,"ci":…}`), written at the end of the
// turn; the consumer's answer (netstring, JSON with tindex) takes it out and answers it 200 with
// the load tool's own UAS code; the ACK is read and ignored. No transaction, no timers, no 100.
//
// Invoked as the load tool invokes evsip: `node floor-relay.js run <app> --listen udp:HOST:PORT …`,
// with EVSIP_LOAD_EVAPI=host:port for the consumers to connect to. EVSIP_FLOOR_SPIN_US=N spins N µs
// before each OPTIONS' 200 (no allocation, no garbage): a router with evsip's CPU per request but
// the floor's garbage and code, to tell what a tail owes to time spent from what it owes to the rest.
// EVSIP_FLOOR_GARBAGE_KB=N makes about N KB of short-lived small objects per OPTIONS as well, dead
// by the next one (the young generation's work without evsip's code).
import { createSocket } from "node:dgram";
import { createServer, type Socket } from "node:net";
import { NetstringDecoder } from "evsip-client/netstring";
import { answer200, replyPort } from "./uas.js";

const STATUS = Buffer.from("SIP/2.0 200 OK\r\n", "latin1");
/** A knob's value: a number ≥ 0, or the floor refuses to start (a typo must not measure something else). */
function knob(name: string): number {
  const v = Number(process.env[name] ?? 0);
  if (!Number.isFinite(v) || v < 0) throw new Error(`floor-relay: ${name} wants a number ≥ 0, got "${process.env[name]}"`);
  return v;
}

const SPIN_MS = knob("EVSIP_FLOOR_SPIN_US") / 1000;

const GARBAGE_OBJECTS = Math.round((knob("EVSIP_FLOOR_GARBAGE_KB") * 1024) / 64);
/** Where each request's garbage is kept until the next one's replaces it, so that it is made. */
let _garbageSink: unknown;

/** About GARBAGE_OBJECTS × 64 bytes (a small object of four fields and its slot), dead at the next call. */
function makeGarbage(): void {
  if (GARBAGE_OBJECTS === 0) return;
  const objects = new Array<{ a: number; b: number; c: number; d: number }>(GARBAGE_OBJECTS);
  for (let i = 0; i < GARBAGE_OBJECTS; i++) objects[i] = { a: i, b: i, c: i, d: i };
  _garbageSink = objects;
}

/** Busy for SPIN_MS, allocating nothing. */
function spin(): void {
  if (SPIN_MS <= 0) return;
  const until = performance.now() + SPIN_MS;
  while (performance.now() < until);
}
const CALL_ID = Buffer.from("\nCall-ID:", "latin1");
const EVENT_HEAD = Buffer.from('{"event":"options","ci":"', "latin1");
const EVENT_TAIL = Buffer.from('"}', "latin1");
const INVITE = Buffer.from("INVITE ", "latin1");
const ACK = Buffer.from("ACK ", "latin1");

/** `--listen udp:HOST:PORT` of the command line. */
function listenAddress(argv: readonly string[]): { host: string; port: number } {
  const spec = argv[argv.indexOf("--listen") + 1] ?? "";
  const m = /^udp:([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`floor-relay: --listen udp:HOST:PORT expected, got "${spec}"`);
  return { host: m[1] as string, port: Number(m[2]) };
}

function startsWith(buf: Buffer, head: Buffer): boolean {
  return buf.length >= head.length && buf.compare(head, 0, head.length, 0, head.length) === 0;
}

/**
 * Writes the event of `msg` as a netstring into out; returns its length: `{"event":"options",
 * "ci":"<Call-ID>"}`, or with `tindex` given, `{"event":"invite","tindex":<tindex>,"tlabel":1,
 * "ci":"<Call-ID>"}`.
 */
function eventFrame(msg: Buffer, out: Buffer, tindex?: number): number {
  const c = msg.indexOf(CALL_ID);
  let s = c < 0 ? 0 : c + CALL_ID.length;
  while (msg[s] === 0x20) s++;
  let e = s;
  while (e < msg.length && msg[e] !== 0x0d) e++;
  const head = tindex === undefined ? EVENT_HEAD : Buffer.from(`{"event":"invite","tindex":${tindex},"tlabel":1,"ci":"`);
  const len = head.length + (e - s) + EVENT_TAIL.length;
  let o = out.write(`${len}:`, 0, "latin1");
  o += head.copy(out, o);
  o += msg.copy(out, o, s, e);
  o += EVENT_TAIL.copy(out, o);
  out[o++] = 0x2c;
  return o;
}

function main(): void {
  const { host, port } = listenAddress(process.argv);
  const [evHost, evPort] = (process.env.EVSIP_LOAD_EVAPI ?? "").split(":");
  const consumers = new Set<Socket>();
  // INVITEs waiting for the consumer's answer, by tindex, with the port their 200 goes to.
  const waiting = new Map<number, { msg: Buffer; port: number }>();
  let nextIndex = 0;
  const tail = Buffer.from(`Contact: <sip:floor@${host}:${port}>\r\nContent-Length: 0\r\n\r\n`, "latin1");
  const onAnswer = (frame: Buffer): void => {
    const { tindex } = JSON.parse(frame.toString("latin1")) as { tindex?: number };
    const call = tindex === undefined ? undefined : waiting.get(tindex);
    if (call === undefined || tindex === undefined) return;
    waiting.delete(tindex);
    const ok = answer200(call.msg, tail);
    if (ok) udp.send(ok, 0, ok.length, call.port, "127.0.0.1");
  };
  createServer((s) => {
    consumers.add(s);
    const decoder = new NetstringDecoder({ onFrame: onAnswer });
    s.on("data", (chunk: Buffer) => void decoder.push(chunk));
    s.on("close", () => consumers.delete(s));
    s.on("error", () => undefined);
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
    if (startsWith(msg, ACK)) return;
    if (startsWith(msg, INVITE)) {
      const tindex = nextIndex++;
      waiting.set(tindex, { msg, port: replyPort(msg, rinfo.port) });
      if (evLen > events.length - eventRoom) flush();
      if (evLen === 0) setImmediate(flush);
      evLen += eventFrame(msg, events.subarray(evLen), tindex);
      return;
    }
    makeGarbage();
    spin();
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
