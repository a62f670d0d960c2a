// Proxy details that only show with real peers: received/rport added to the forwarded Via so a
// stateless response finds the UAC's real port, $si/$sp in reply routes name the replying peer, a
// route that fails after t_suspend answers 500 at once, and an awaiting route that drops leaves
// no transaction behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isRequest, isResponse, sipText } from "../support/sip-peer.js";

function invite(from: SipPeer, viaHostport: string, callId: string, extraVia = ""): string {
  return sipText([
    `INVITE sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${viaHostport};branch=${from.branch()}${extraVia}`,
    "Max-Forwards: 70",
    `From: <sip:a@127.0.0.1>;tag=f-${callId}`,
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
  ]);
}

/** The UAS side: answer `status` to a request, copying its Vias. */
function answer(
  req: { msg: { headerValues(n: string): string[]; header(n: string): string | undefined } },
  status: string,
): string {
  const vias = req.msg.headerValues("Via").map((v) => `Via: ${v}`);
  return sipText([
    `SIP/2.0 ${status}`,
    ...vias,
    `From: ${req.msg.header("From") ?? ""}`,
    `To: ${req.msg.header("To") ?? ""};tag=uas1`,
    `Call-ID: ${req.msg.header("Call-ID") ?? ""}`,
    `CSeq: ${req.msg.header("CSeq") ?? ""}`,
  ]);
}

test("a stateless forward adds received/rport, so the response reaches the UAC's real port", async () => {
  const uac = await SipPeer.open();
  const uas = await SipPeer.open();
  const r = await startRouter(defineApp({ request: (ctx) => void ctx.forward(`sip:127.0.0.1:${uas.port}`) }));
  try {
    // The UAC claims port 9 in its Via (a NAT'd client would) but asks for rport.
    uac.send(invite(uac, "127.0.0.1:9", "rport-1", ";rport"), r.udpPort);
    const req = await uas.expect(isRequest("INVITE"));
    const second = req.msg.vias[1];
    assert.equal(second?.rport, uac.port, "rport filled with the source port");
    uas.send(answer(req, "486 Busy Here"), req.from.port);
    const res = await uac.expect(isResponse(486));
    assert.equal(res.msg.vias.length, 1, "our Via removed");
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("in a reply route $si/$sp are the peer that sent the reply", async () => {
  const uac = await SipPeer.open();
  const uas = await SipPeer.open();
  const seen: unknown[] = [];
  const r = await startRouter(
    defineApp({
      request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${uas.port}`),
      reply: (ctx) => void seen.push(ctx.pv("$sp")),
    }),
  );
  try {
    uac.send(invite(uac, uac.hostport, "si-1"), r.udpPort);
    const req = await uas.expect(isRequest("INVITE"));
    uas.send(answer(req, "486 Busy Here"), req.from.port);
    await uac.expect(isResponse(486));
    assert.deepEqual(seen, [uas.port]);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("a route that throws after suspend answers 500 at once; an awaiting route that drops leaves nothing", async () => {
  const uac = await SipPeer.open();
  let finished!: () => void;
  const done = new Promise<void>((res) => (finished = res));
  const r = await startRouter(
    defineApp({
      tm: { frTimer: 30_000 },
      async request(ctx) {
        if (ctx.pv("$ci") === "throw-1") {
          ctx.tm.suspend();
          throw new Error("lost the auth service handle");
        }
        await Promise.resolve();
        finished();
        ctx.drop();
      },
    }),
  );
  try {
    uac.send(invite(uac, uac.hostport, "throw-1"), r.udpPort);
    assert.equal((await uac.expect((m) => m.callId === "throw-1" && m.status >= 200)).msg.status, 500);
    uac.send(
      invite(uac, uac.hostport, "drop-1").replace("INVITE sip", "OPTIONS sip").replace("1 INVITE", "1 OPTIONS"),
      r.udpPort,
    );
    await done;
    await new Promise<void>((res) => setImmediate(res));
    assert.equal(r.server.engine.tu.stats.suspended, 0);
    assert.equal(
      r.server.engine.tu.stats.serverTransactions,
      1,
      "only the completed INVITE (waiting for its ACK) is left; the dropped OPTIONS is gone",
    );
  } finally {
    uac.close();
    await r.stop();
  }
});
