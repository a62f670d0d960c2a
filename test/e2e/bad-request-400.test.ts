// Requests that parse badly but can still be answered get a stateless 400 whose reason names the
// problem (RFC 3261 §8.2, §16.3), counted by code: a Content-Length longer than the datagram, no
// empty line after the headers, a missing Call-ID. An ACK, or a request without a usable Via, is
// still dropped: nothing comes back before the answer to the next good request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isResponse } from "../support/sip-peer.js";

function head(peer: SipPeer, method: string, callId: string, opts: { via?: string; callIdLine?: boolean } = {}): string[] {
  return [
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: ${opts.via ?? `SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`}`,
    "Max-Forwards: 70",
    "From: <sip:a@127.0.0.1>;tag=f1",
    "To: <sip:bob@127.0.0.1>",
    ...(opts.callIdLine === false ? [] : [`Call-ID: ${callId}`]),
    `CSeq: 1 ${method}`,
  ];
}

test("malformed requests that can be answered get 400 with a reason naming the problem", async () => {
  const uac = await SipPeer.open();
  const r = await startRouter(defineApp({ request: (ctx) => void ctx.sl.sendReply(200, "OK") }), ["udp:127.0.0.1:0"]);
  const stats = r.internals.engine.stats.badRequestAnswered;
  try {
    const cases: Array<[string, string, string]> = [
      [
        "cl-long",
        `${head(uac, "INVITE", "cl-long").join("\r\n")}\r\nContent-Length: 100\r\n\r\nv=0\r\n`,
        "Content-Length Exceeds Message",
      ],
      ["no-end", `${head(uac, "OPTIONS", "no-end").join("\r\n")}\r\nContent-Length: 0\r\n`, "No Empty Line After Headers"],
      ["cl-bad", `${head(uac, "OPTIONS", "cl-bad").join("\r\n")}\r\nContent-Length: ten\r\n\r\n`, "Bad Content-Length"],
    ];
    for (const [callId, text, reason] of cases) {
      uac.send(text, r.udpPort);
      const res = await uac.expect((m) => m.callId === callId);
      assert.equal(res.msg.status, 400, callId);
      assert.equal(res.msg.reason, `Bad Request - ${reason}`);
      assert.ok(res.msg.to.tag, "a To tag, so the UAC can match the ACK");
    }
    uac.send(`${head(uac, "OPTIONS", "", { callIdLine: false }).join("\r\n")}\r\nContent-Length: 0\r\n\r\n`, r.udpPort);
    const missing = await uac.expect(isResponse(400));
    assert.equal(missing.msg.reason, "Bad Request - Missing or Repeated Mandatory Header");
    assert.deepEqual(
      [...stats],
      [
        ["ERR_SIP_BODY_TRUNCATED", 1],
        ["ERR_SIP_NO_HEADER_END", 1],
        ["ERR_SIP_BAD_CONTENT_LENGTH", 1],
        ["ERR_SIP_MISSING_HEADER", 1],
      ],
    );
  } finally {
    uac.close();
    await r.stop();
  }
});

test("an ACK, or a request whose Via is unusable, is dropped as before", async () => {
  const uac = await SipPeer.open();
  const r = await startRouter(defineApp({ request: (ctx) => void ctx.sl.sendReply(200, "OK") }), ["udp:127.0.0.1:0"]);
  try {
    uac.send(`${head(uac, "ACK", "ack-long").join("\r\n")}\r\nContent-Length: 100\r\n\r\nx`, r.udpPort);
    uac.send(`${head(uac, "OPTIONS", "via-bad", { via: "garbage" }).join("\r\n")}\r\nContent-Length: 100\r\n\r\nx`, r.udpPort);
    uac.send(`${head(uac, "OPTIONS", "good").join("\r\n")}\r\nContent-Length: 0\r\n\r\n`, r.udpPort);
    const first = await uac.expect(() => true);
    assert.equal(first.msg.callId, "good", "nothing answered the two before it");
    assert.equal(first.msg.status, 200);
    assert.equal(r.internals.engine.stats.badRequestAnswered.size, 0);
  } finally {
    uac.close();
    await r.stop();
  }
});
