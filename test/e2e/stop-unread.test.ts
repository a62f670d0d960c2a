// A stop reads no more SIP once it begins. The modules stop after that and may take a second or
// more to hand their peers what is queued (evapi waits for a client to close after its FIN); a BYE
// routed in that window used to be answered 200 while its billing event found no client and was
// lost. Left unread, a UDP BYE is retransmitted by its sender to the router that replaces this one;
// a TCP sender, which never retransmits, finds its connection closed with no answer and new
// connections refused. Sending still works meanwhile: a call held for its consumer gets its answer.
//
// The window these tests act in is evapi's linger for a consumer that keeps its side open after
// evsip's FIN (1 s): a router held up longer than that would fail them, never pass them wrongly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { defineApp } from "../../src/app.js";
import { startRouter, type RunningRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import type { EvapiModule } from "../../src/modules/evapi/module-instance.js";

const app = defineApp({
  modules: { evapi: { bindAddr: "127.0.0.1:0" } },
  async request(ctx) {
    if (ctx.isMethod("INVITE")) {
      // Held for the consumer, which never answers: the timeout's 500 goes out during the stop.
      await ctx.evapi?.request({ event: "auth", ci: ctx.pv("$ci") }, { timeout: 300 }).catch(() => undefined);
      ctx.tm.reply(500, "No Answer");
      return ctx.exit();
    }
    ctx.evapi?.relay({ event: "call-end", ci: ctx.pv("$ci") });
    ctx.sl.sendReply(200, "OK");
    return ctx.exit();
  },
});

function request(method: "BYE" | "INVITE", via: string, callId: string): string {
  return sipText([
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${via};branch=z9hG4bK-${callId}-${method}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    `To: <sip:bob@127.0.0.1>${method === "BYE" ? `;tag=b-${callId}` : ""}`,
    `Call-ID: ${callId}`,
    `CSeq: ${method === "BYE" ? 2 : 1} ${method}`,
  ]);
}

/** A router whose evapi consumer keeps its side open after evsip's FIN, holding the module's stop for its linger. */
async function withRouter(
  run: (r: RunningRouter, consumer: { socket: Socket; text: () => string }, peer: SipPeer) => Promise<void>,
): Promise<void> {
  const r = await startRouter(app, ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]);
  const evapi = r.internals.modules.get("evapi") as EvapiModule;
  const peer = await SipPeer.open();
  const socket = connect({ port: evapi.address().port, host: "127.0.0.1", allowHalfOpen: true });
  const frames: string[] = [];
  socket.on("data", (b: Buffer) => frames.push(b.toString()));
  try {
    await once(socket, "connect");
    await run(r, { socket, text: () => frames.join("") }, peer);
  } finally {
    socket.destroy();
    peer.close();
    await r.stop();
  }
}

test("a BYE that arrives while the modules stop is left unread, not answered with its event lost", () =>
  withRouter(async (r, consumer, peer) => {
    const evapi = r.internals.modules.get("evapi") as EvapiModule;
    peer.send(request("BYE", `UDP ${peer.hostport}`, "before-stop"), r.udpPort);
    assert.equal((await peer.expect((m) => m.callId === "before-stop")).msg.status, 200);
    const stopped = r.stop();
    await once(consumer.socket, "end"); // the stop has reached the modules: evapi closed its client
    peer.send(request("BYE", `UDP ${peer.hostport}`, "while-stopping"), r.udpPort);
    await stopped;
    assert.equal(r.internals.transport.stats.unreadAtStop, 1, "the BYE was received and left unread");
    assert.equal(
      peer.count((m) => m.callId === "while-stopping"),
      0,
      "and not answered",
    );
    assert.equal(evapi.service.stats.eventsNoClient, 0, "no event was relayed to nobody");
    assert.ok(consumer.text().includes("before-stop"), "the event of the BYE before the stop was delivered");
  }));

test("over TCP, the open connection is read no more and closes unanswered; a new connection is refused", () =>
  withRouter(async (r, consumer) => {
    const trunk = connect({ port: r.tcpPort, host: "127.0.0.1" });
    const answers: string[] = [];
    trunk.on("data", (b: Buffer) => answers.push(b.toString()));
    trunk.on("error", () => undefined); // a reset is one way the close may show
    await once(trunk, "connect");
    trunk.write(request("BYE", "TCP 127.0.0.1:5999", "tcp-before"));
    while (!answers.join("").includes("SIP/2.0 200")) await once(trunk, "data");
    const stopped = r.stop();
    await once(consumer.socket, "end");
    trunk.write(request("BYE", "TCP 127.0.0.1:5999", "tcp-while-stopping"));
    const late = connect({ port: r.tcpPort, host: "127.0.0.1" });
    const outcome = await new Promise<string | undefined>((resolve) => {
      late.once("connect", () => resolve("accepted"));
      late.once("error", (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    late.destroy();
    assert.equal(outcome, "ECONNREFUSED", "no new connection is taken once the stop began");
    await once(trunk, "close");
    await stopped;
    assert.ok(!answers.join("").includes("tcp-while-stopping"), "the BYE sent during the stop had no answer");
    assert.equal(r.internals.transport.stats.unreadAtStop, 0, "nor was it read: the connection was paused");
    assert.ok(!consumer.text().includes("tcp-while-stopping"), "nor an event");
  }));

test("sending works while the modules stop: a call held for its consumer gets its answer", () =>
  withRouter(async (r, consumer, peer) => {
    peer.send(request("INVITE", `UDP ${peer.hostport}`, "held"), r.udpPort);
    while (!consumer.text().includes('"held"')) await once(consumer.socket, "data");
    const stopped = r.stop();
    const answer = await peer.expect((m) => m.callId === "held" && (m.status ?? 0) >= 200);
    assert.equal(answer.msg.status, 500, "the route's answer after the request timed out, sent mid-stop");
    await stopped;
  }));
