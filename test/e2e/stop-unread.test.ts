// A stop reads no more SIP once it begins. The modules stop after that and may take a second or
// more to hand their peers what is queued (evapi waits for a client to close after its FIN); a BYE
// routed in that window used to be answered 200 while its billing event found no client and was
// lost. Left unread, a UDP BYE is retransmitted by its sender to the router that replaces this one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import type { EvapiModule } from "../../src/modules/evapi/module-instance.js";

const app = defineApp({
  modules: { evapi: { bindAddr: "127.0.0.1:0" } },
  request(ctx) {
    ctx.evapi?.relay({ event: "call-end", ci: ctx.pv("$ci") });
    ctx.sl.sendReply(200, "OK");
    return ctx.exit();
  },
});

function bye(peer: SipPeer, callId: string): string {
  return sipText([
    "BYE sip:bob@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    `To: <sip:bob@127.0.0.1>;tag=b-${callId}`,
    `Call-ID: ${callId}`,
    "CSeq: 2 BYE",
  ]);
}

test("a BYE that arrives while the modules stop is left unread, not answered with its event lost", async () => {
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const evapi = r.internals.modules.get("evapi") as EvapiModule;
  const peer = await SipPeer.open();
  // A consumer that keeps its side open after evsip's FIN holds the module's stop for its linger.
  const consumer = connect({ port: evapi.address().port, host: "127.0.0.1", allowHalfOpen: true });
  const frames: string[] = [];
  consumer.on("data", (b: Buffer) => frames.push(b.toString()));
  let stopped: Promise<void> | undefined;
  try {
    await once(consumer, "connect");
    peer.send(bye(peer, "before-stop"), r.udpPort);
    assert.equal((await peer.expect((m) => m.callId === "before-stop")).msg.status, 200);
    stopped = r.stop();
    await once(consumer, "end"); // the stop has reached the modules: evapi closed its client
    peer.send(bye(peer, "while-stopping"), r.udpPort);
    await stopped;
    assert.equal(r.internals.transport.stats.unreadAtStop, 1, "the BYE was received and left unread");
    assert.equal(
      peer.count((m) => m.callId === "while-stopping"),
      0,
      "and not answered",
    );
    assert.equal(evapi.service.stats.eventsNoClient, 0, "no event was relayed to nobody");
    assert.ok(frames.join("").includes("before-stop"), "the event of the BYE before the stop was delivered");
  } finally {
    consumer.destroy();
    peer.close();
    await (stopped ?? r.stop());
  }
});
