// Parent side of bench-peer.ts: forks it with IPC, waits for `ready`, asks for its statistics, and
// makes sure a SIP router has registered every evapi connection before a run (readiness probes:
// OPTIONS with Call-ID "probe-…" whose relayed events the peer counts apart), or has connected to
// the JSON-RPC service.
import { fork, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import type { PeerStats } from "./bench-peer.js";

export interface Peer {
  /** The JSON-RPC service's port (mode jsonrpc). */
  readonly port: number;
  stats(): Promise<PeerStats>;
  stop(): Promise<void>;
}

function nextMessage<T>(child: ChildProcess, key: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`bench peer: no "${key}" within ${ms} ms`)), ms);
    const onMsg = (m: Record<string, unknown>): void => {
      if (key in m) done(undefined, m as T);
    };
    const onExit = (code: number | null): void => done(new Error(`bench peer exited with ${code}`));
    function done(err: Error | undefined, v?: T): void {
      clearTimeout(timer);
      child.off("message", onMsg);
      child.off("exit", onExit);
      if (err === undefined) resolve(v as T);
      else reject(err);
    }
    child.on("message", onMsg);
    child.once("exit", onExit);
  });
}

/** Forks bench-peer.js in `mode` with `args` and resolves once it is ready. */
export async function startPeer(mode: "answer" | "count" | "jsonrpc", args: number[] = []): Promise<Peer> {
  const child = fork(new URL("./bench-peer.js", import.meta.url), [mode, ...args.map(String)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const portMsg = mode === "jsonrpc" ? nextMessage<{ port: number }>(child, "port", 10_000) : Promise.resolve({ port: 0 });
  const ready = nextMessage<{ ready: true }>(child, "ready", 10_000);
  const [{ port }] = await Promise.all([portMsg, ready]).catch((e: unknown) => {
    child.kill("SIGKILL"); // a peer that never got ready would keep the caller's process alive
    throw e;
  });
  return {
    port,
    stats: async () => {
      const p = nextMessage<{ stats: PeerStats }>(child, "stats", 10_000);
      child.send({ cmd: "stats" });
      return (await p).stats;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.send({ cmd: "exit" });
      await exited;
    },
  };
}

function probe(port: number, viaPort: number, k: number): Buffer {
  return Buffer.from(
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${viaPort};branch=z9hG4bKbenchprobe${k}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=bp${k}\r\nTo: <sip:127.0.0.1>\r\n` +
      `Call-ID: probe-${k}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
}

/**
 * Sends probe OPTIONS to the router on udp 127.0.0.1:sipPort (its route relays an event per
 * OPTIONS) every 100 ms until every connection of `peer` has received a probe event, up to `ms`.
 */
export async function waitEvapiReady(sipPort: number, peer: Peer, ms = 10_000): Promise<void> {
  const sock = createSocket("udp4");
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  const end = Date.now() + ms;
  try {
    for (let k = 1; ; k++) {
      sock.send(probe(sipPort, sock.address().port, k), sipPort, "127.0.0.1");
      await new Promise<void>((r) => setTimeout(r, 100));
      const s = await peer.stats();
      if (s.probes.length > 0 && s.probes.every((p) => p > 0)) return;
      if (Date.now() > end) throw new Error(`evapi clients not registered after ${ms} ms: probes ${s.probes.join(",")}`);
    }
  } finally {
    sock.close();
  }
}

/** Resolves once the JSON-RPC service `peer` has a connection from the router (bounded). */
export async function waitRpcConnected(peer: Peer, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while ((await peer.stats()).connections < 1) {
    if (Date.now() > end) throw new Error(`the router did not connect to the JSON-RPC service within ${ms} ms`);
    await new Promise<void>((r) => setTimeout(r, 50));
  }
}
