// The external application of the evapi/jsonrpc macro benches, run as a child process (fork with
// IPC) so that its CPU is not counted as the router's and the same code serves evsip and Kamailio.
// Modes: `answer <port>` (an EvapiClient answering every INVITE event "allow"), `count <port> <n>`
// (n plain netstring readers counting frames), `jsonrpc` (a createJsonRpcServer service).
// Frames whose text contains "probe-" come from readiness probes and are counted apart.
import { connect } from "node:net";
import { createJsonRpcServer, EvapiClient } from "../../src/client/index.js";
import { NetstringDecoder } from "evsip-client/netstring";

/** What the peer reports on `{ cmd: "stats" }`. */
export interface PeerStats {
  /** Per connection: frames that were not probes. */
  readonly counts: number[];
  /** Per connection: probe frames. */
  readonly probes: number[];
  /** Per connection: ms (performance.now) of the first and last counted frame, NaN when none. */
  readonly first: number[];
  readonly last: number[];
  /** Answers sent (answer), connections and requests (jsonrpc). */
  readonly answered: number;
  readonly connections: number;
  readonly requests: number;
}

const PROBE = Buffer.from("probe-");
const [mode, portArg, nArg] = process.argv.slice(2);
const port = Number(portArg ?? 0);
const n = Number(nArg ?? 1);
const counts: number[] = [];
const probes: number[] = [];
const first: number[] = [];
const last: number[] = [];
let answered = 0;
let stats = (): PeerStats => ({ counts, probes, first, last, answered, connections: 0, requests: 0 });

function slot(i: number): void {
  counts[i] = 0;
  probes[i] = 0;
  first[i] = Number.NaN;
  last[i] = Number.NaN;
}

function seen(i: number, isProbe: boolean): void {
  if (isProbe) {
    probes[i]!++;
    return;
  }
  const now = performance.now();
  const c = counts[i] ?? 0;
  counts[i] = c + 1;
  if (c === 0) first[i] = now;
  last[i] = now;
}

async function answer(): Promise<void> {
  slot(0);
  const client = new EvapiClient({ host: "127.0.0.1", port, reconnect: { initialDelay: 50, maxDelay: 200 } });
  client.on("message", (text) => seen(0, text.includes("probe-")));
  // The answering application of the brief: the same code for evsip and Kamailio.
  client.answer((e) => {
    if (typeof e !== "object" || e === null || !("tindex" in e)) return undefined;
    answered++;
    return { action: "allow" };
  });
  await client.connect();
}

async function count(): Promise<void> {
  for (let i = 0; i < n; i++) {
    slot(i);
    const d = new NetstringDecoder({ onFrame: (p) => seen(i, p.includes(PROBE)) });
    const s = connect({ port, host: "127.0.0.1" });
    s.on("data", (c: Buffer) => void d.push(c));
    s.on("error", (e) => console.error(`counting client ${i}: ${e.message}`));
    // A client that cannot connect exits the peer, which its parent sees at once (no "ready" to wait for).
    const failed = (): never => process.exit(1);
    s.once("error", failed);
    await new Promise<void>((r) => s.once("connect", r));
    s.off("error", failed);
  }
}

async function jsonrpc(): Promise<void> {
  const server = createJsonRpcServer({
    port: 0,
    host: "127.0.0.1",
    methods: { route: (p) => ({ gw: "sip:127.0.0.1:5060", p }) },
  });
  const addr = await server.listen();
  stats = () => ({
    counts,
    probes,
    first,
    last,
    answered,
    connections: server.stats.connections,
    requests: server.stats.requests,
  });
  process.send?.({ port: addr.port });
}

process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "stats") process.send?.({ stats: stats() });
  if (m.cmd === "exit") process.exit(0);
});
process.on("disconnect", () => process.exit(0));

if (mode === "answer") await answer();
else if (mode === "count") await count();
else if (mode === "jsonrpc") await jsonrpc();
else throw new Error(`bench-peer: unknown mode ${mode}`);
process.send?.({ ready: true });
