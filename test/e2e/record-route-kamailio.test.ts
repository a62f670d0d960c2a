// Record-Route as Kamailio's rr module writes it (checked against Kamailio 5.6 with the same
// requests: `<sip:127.0.0.1:5990;lr;ftag=FT123>`, and over a transport change
// `<sip:…;transport=tcp;r2=on;lr;ftag=…>` then `<sip:…;r2=on;lr;ftag=…>`), and is_direction on
// in-dialog requests: downstream when the From tag is the recorded ftag (or there is none),
// upstream otherwise. Real UDP and TCP peers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { once } from "node:events";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isRequest, isResponse, sipText } from "../support/sip-peer.js";

function request(method: string, from: SipPeer, callId: string, fromTag: string, extra: string[] = []): string {
  return sipText([
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${from.hostport};branch=${from.branch()}`,
    ...extra,
    "Max-Forwards: 70",
    `From: <sip:a@127.0.0.1>;tag=${fromTag}`,
    `To: <sip:bob@127.0.0.1>${method === "INVITE" ? "" : ";tag=callee"}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ]);
}

function rrApp(target: string, seen: string[] = []) {
  return defineApp({
    request(ctx) {
      if (ctx.hasToTag()) {
        if (ctx.rr.looseRoute()) seen.push(ctx.rr.isDirection("downstream") ? "downstream" : "upstream");
        ctx.sl.sendReply(200, "OK");
        return ctx.exit();
      }
      ctx.rr.recordRoute();
      ctx.tm.relay(target);
    },
  });
}

test("a UDP to UDP relay records one route with lr and the From tag", async () => {
  const uac = await SipPeer.open();
  const uas = await SipPeer.open();
  const r = await startRouter(rrApp(`sip:127.0.0.1:${uas.port}`), ["udp:127.0.0.1:0"]);
  try {
    uac.send(request("INVITE", uac, "rr-1", "FT123"), r.udpPort);
    const req = await uas.expect(isRequest("INVITE"));
    assert.deepEqual(req.msg.headerValues("Record-Route"), [`<sip:127.0.0.1:${r.udpPort};lr;ftag=FT123>`]);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("a UDP to TCP relay records two routes, both with r2=on, lr and the From tag", async () => {
  const uac = await SipPeer.open();
  let resolveText!: (text: string) => void;
  const got = new Promise<string>((resolve) => (resolveText = resolve));
  const srv = createServer((s: Socket) => {
    let text = "";
    s.on("data", (d) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) {
        resolveText(text);
        s.destroy();
      }
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  const r = await startRouter(rrApp(`sip:127.0.0.1:${port};transport=tcp`));
  try {
    uac.send(request("INVITE", uac, "rr-2", "FT123"), r.udpPort);
    const rr = (await got).split("\r\n").filter((l) => l.startsWith("Record-Route:"));
    assert.deepEqual(rr, [
      `Record-Route: <sip:127.0.0.1:${r.tcpPort};transport=tcp;r2=on;lr;ftag=FT123>`,
      `Record-Route: <sip:127.0.0.1:${r.udpPort};r2=on;lr;ftag=FT123>`,
    ]);
  } finally {
    uac.close();
    srv.close();
    await r.stop();
  }
});

test("is_direction after loose_route: the recorded ftag against the From tag", async () => {
  const uac = await SipPeer.open();
  const seen: string[] = [];
  const r = await startRouter(rrApp("sip:127.0.0.1:9", seen), ["udp:127.0.0.1:0"]);
  const route = (ftag: string) => `Route: <sip:127.0.0.1:${r.udpPort};lr${ftag}>`;
  try {
    const cases: Array<[string, string]> = [
      ["FT123", ";ftag=FT123"],
      ["callee", ";ftag=FT123"],
      ["FT123", ""],
      ["callee", ""],
    ];
    for (const [i, [fromTag, ftag]] of cases.entries()) {
      uac.send(request("BYE", uac, `dir-${i}`, fromTag, [route(ftag)]), r.udpPort);
      await uac.expect((m) => isResponse(200)(m) && m.callId === `dir-${i}`);
    }
    assert.deepEqual(seen, ["downstream", "upstream", "downstream", "downstream"], "as Kamailio 5.6 answers the same four");
  } finally {
    uac.close();
    await r.stop();
  }
});
