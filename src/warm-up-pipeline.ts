// Warm-up of the whole call path before the listeners open. The SIP warm-up (src/sip/warm-up.ts)
// covers parsing and reply building; a cold start still ran the rest (the transport's receive
// path, the engine, tm's suspend and continue, sl, evapi's event and answer) about three times
// slower per call for its first 0.7 s, and at 5,000 calls/s the socket's queue grew past the
// overload threshold. The app's own routes cannot be run beforehand (they have effects), so a
// throwaway server with a route of our own carries real calls over loopback: INVITEs held and
// answered (tm.hold), INVITEs suspended for an in-process evapi consumer and continued on its
// answer, INVITEs relayed statefully to a callee, OPTIONS answered statelessly. The code is shared
// with the real server; the throwaway one's state, sockets and counters are gone when it stops.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { defineApp, type AnyAppDefinition } from "./app.js";
import { EvapiClient } from "./client/index.js";
import { buildResponse, parseMessage } from "./sip/index.js";
import { within } from "./common/within.js";

/** Calls in flight at once: enough to fill libuv's reads per turn, few enough for a default buffer. */
const WINDOW = 48;
/** A warm-up that has not finished by then is cut short: it is an optimisation, never a reason not to start. */
const DEADLINE_MS = 5000;

const WARM_UP_APP = defineApp({
  listen: ["udp:127.0.0.1:0"],
  sip: { warmUp: 0, warmUpCalls: 0 },
  modules: { evapi: { bindAddr: "127.0.0.1:0" } },
  async request(ctx) {
    if (ctx.isMethod("ACK")) return;
    if (ctx.isMethod("OPTIONS")) {
      ctx.sl.sendReply(200, "OK");
      return;
    }
    if (ctx.pv("$rU") === "relay") {
      ctx.tm.relay(); // to the Request-URI: the caller's own socket, which answers as the callee
      return;
    }
    if (ctx.pv("$rU") === "evapi") {
      const sent = ctx.evapi.asyncRelay((t) => ({ event: "warm-up", tindex: t.index, tlabel: t.label, ci: ctx.pv("$ci") }));
      if (sent === 0) ctx.tm.reply(503, "No Consumer");
      return;
    }
    await ctx.tm.hold(Promise.resolve());
    ctx.tm.reply(200, "OK");
  },
  routes: {
    ANSWER(ctx) {
      ctx.tm.reply(200, "OK");
    },
  },
  events: {
    "evapi:message-received"(ctx) {
      ctx.evapi.decide({ allow: "ANSWER" }); // the consumer's { action: "allow", tindex, tlabel }
    },
  },
});

/**
 * From and To with no display name, a token one (SIPp's `sipp <sip:…>`) and a quoted one, so that
 * the parser's display-name paths are trained too: left out, the first real From with a display
 * name deoptimised parseNameAddr in the first calls of a cold start (`--trace-deopt`).
 */
const DISPLAY_NAMES = ["", "warm ", '"Warm Up" '] as const;

function request(method: string, user: string, n: number, port: number, toTag = ""): Buffer {
  return Buffer.from(
    `${method} sip:${user}@127.0.0.1:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-warm-${n}\r\n` +
      "Max-Forwards: 70\r\n" +
      `From: ${DISPLAY_NAMES[n % 3] ?? ""}<sip:warm-up@127.0.0.1>;tag=w${n}\r\n` +
      `To: ${DISPLAY_NAMES[(n >> 2) % 3] ?? ""}<sip:${user}@127.0.0.1>${toTag ? `;tag=${toTag}` : ""}\r\n` +
      `Call-ID: warm-${n}\r\n` +
      `CSeq: 1 ${method}\r\n` +
      "Content-Length: 0\r\n\r\n",
    "latin1",
  );
}

/**
 * Sends `calls` calls, `WINDOW` at a time: INVITEs held, sent to evapi, or relayed to the caller's
 * own socket (which answers as the callee), each ACKed, and OPTIONS; counts the finals.
 */
function drive(caller: Socket, port: number, calls: number, progress: { done: number }): Promise<void> {
  const callerPort = caller.address().port;
  const users = ["hold", "evapi", "relay", "options"];
  let sent = 0;
  const answered = new Set<number>();
  const next = (): void => {
    const n = sent++;
    const user = users[n % users.length] as string;
    caller.send(request(user === "options" ? "OPTIONS" : "INVITE", user, n, callerPort), port, "127.0.0.1");
  };
  return new Promise<void>((resolve) => {
    caller.on("message", (m: Buffer) => {
      const r = parseMessage(m);
      if (!r.ok) return;
      const msg = r.msg;
      if (msg.isRequest) {
        // A relayed INVITE: the caller's socket is its callee too, and answers it.
        if (msg.method === "INVITE") caller.send(buildResponse(msg, 200, "OK", { toTag: "callee" }), port, "127.0.0.1");
        return;
      }
      if ((msg.status ?? 0) < 200) return;
      const n = Number(msg.callId.slice("warm-".length));
      if (Number.isNaN(n)) return;
      if (msg.cseq.method === "INVITE") {
        caller.send(request("ACK", users[n % users.length] as string, n, callerPort, msg.to.tag ?? ""), port, "127.0.0.1");
      }
      if (answered.has(n)) return; // a retransmitted final: counted once
      answered.add(n);
      if (++progress.done === calls) resolve();
      else if (sent < calls) next();
    });
    for (let i = 0; i < Math.min(WINDOW, calls); i++) next();
  });
}

/** The parts of a throwaway server the warm-up needs: made by server.ts, so the two files do not import each other. */
export interface WarmUpServer {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  /** The SIP UDP port it bound. */
  sipPort(): number;
  /** The evapi port it bound. */
  evapiPort(): number;
}

/**
 * Runs `calls` calls through a throwaway server that `make` builds for the given app. Resolves
 * with how many were answered, when all were or at DEADLINE_MS; never rejects: a warm-up that
 * cannot run (no loopback, a port refused) only leaves the code colder.
 */
export async function warmUpPipeline(calls: number, make: (app: AnyAppDefinition) => WarmUpServer): Promise<number> {
  if (calls <= 0) return 0;
  const server = make(WARM_UP_APP);
  const caller = createSocket("udp4");
  // A send that fails (ENOBUFS, a filtered loopback) is an 'error' event: without a listener it
  // would be an uncaught exception in the middle of the start.
  caller.on("error", () => undefined);
  let consumer: EvapiClient | undefined;
  const progress = { done: 0 };
  // The server's start is bounded and finishes before the deadline counts, so a stop never lands
  // in the middle of it (a listener opened after its stop would be left open).
  const run = async (): Promise<void> => {
    consumer = new EvapiClient({ host: "127.0.0.1", port: server.evapiPort(), reconnect: false });
    consumer.answer(() => ({ action: "allow" }));
    await consumer.connect();
    caller.bind(0, "127.0.0.1");
    await once(caller, "listening");
    await drive(caller, server.sipPort(), calls, progress);
  };
  try {
    await server.start();
    await within(run(), DEADLINE_MS);
  } catch {
    // leaves the code colder, nothing more
  } finally {
    await new Promise<void>((resolve) => {
      try {
        caller.close(resolve);
      } catch {
        resolve(); // never bound
      }
    });
    await consumer?.close().catch(() => undefined);
    await server.stop().catch(() => undefined);
  }
  return progress.done;
}
