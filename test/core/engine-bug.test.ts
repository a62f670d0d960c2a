// A bug of evsip's own while the engine handles a message (planted here: a module's request absorber
// that throws, on a real Server over UDP) costs that message only: counted in the transport's
// internalErrors, logged with ERR_TRANSPORT_INTERNAL, and the next message is answered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { captureLogger } from "../support/transport-harness.js";

function options(peer: SipPeer, callId: string): string {
  return sipText([
    "OPTIONS sip:bob@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP ${peer.hostport};branch=z9hG4bK-${callId}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${callId}`,
    "CSeq: 1 OPTIONS",
  ]);
}

test("a bug in the engine's handling of one message is counted and logged, and the next message is answered", async (t) => {
  const log = captureLogger();
  const app = defineApp({ request: (ctx) => void ctx.sl.sendReply(200, "OK") });
  const r = await startRouter(app, ["udp:127.0.0.1:0"], log.logger);
  const peer = await SipPeer.open();
  t.after(async () => {
    peer.close();
    await r.stop();
  });
  r.internals.engine.addRequestAbsorber((msg) => {
    if (msg.callId === "bomb") throw new Error("planted bug");
    return false;
  });
  peer.send(options(peer, "bomb"), r.udpPort);
  const [line] = await log.withCode("ERR_TRANSPORT_INTERNAL");
  assert.equal(line?.msg, "internal error handling a message, dropped");
  assert.equal(r.internals.transport.stats.internalErrors, 1);
  peer.send(options(peer, "fine"), r.udpPort);
  assert.equal((await peer.expect(isResponse(200))).msg.callId, "fine", "the router goes on");
  assert.equal(r.internals.transport.stats.internalErrors, 1);
});

test("a bug on one of the engine's async paths is counted and logged as the transport's own, each place with its own budget", async (t) => {
  const log = captureLogger();
  const r = await startRouter(defineApp({ request: () => undefined }), ["udp:127.0.0.1:0"], log.logger);
  t.after(() => r.stop());
  for (let i = 0; i < 12; i++) r.internals.engine.internalError(new Error("planted"), "release");
  r.internals.engine.internalError(new Error("planted"), "t_continue");
  assert.equal(r.internals.transport.stats.internalErrors, 13, "every one counted");
  const lines = await log.withCode("ERR_TRANSPORT_INTERNAL", 11);
  // The rate-limited log writes 10 lines per place per interval: a flood at one place leaves room for another's.
  assert.deepEqual(
    lines.map((l) => l.where),
    [...Array<string>(10).fill("release"), "t_continue"],
  );
  assert.equal(lines[10]?.msg, "internal error in t_continue");
});
