// tm over the real TransportLayer (UDP listener on 127.0.0.1:0): TransportLayer satisfies
// TmTransport structurally, and a relayed INVITE gets 100, 180 and 200 back through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { parseMessage } from "../../src/sip/index.js";
import { parseListen } from "../../src/transport/listen-spec.js";
import { TransportLayer } from "../../src/transport/transport-layer.js";
import type { Source } from "../../src/transport/types.js";
import { TransactionLayer, type TmSource, type TmTransport } from "../../src/tm/index.js";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { answer, request } from "../support/tm-harness.js";

// Compile-time: the real transport and its Source fit tm's structural types.
const asTmTransport = (t: TransportLayer): TmTransport => t;
const asTmSource = (s: Source): TmSource => s;

test("relay through TransportLayer: 100, 180, 200 reach the UAC", async () => {
  const logger = pino({ level: "silent" });
  const ref: { tm?: TransactionLayer } = {};
  const transport = new TransportLayer({ listen: [parseListen("udp:127.0.0.1:0")], logger, parse: parseMessage }, (msg, src) => {
    const tm = ref.tm;
    if (tm === undefined) return;
    if (!msg.isRequest) {
      tm.handleResponse(msg, asTmSource(src));
      return;
    }
    if (tm.handleRequest(msg, src) === "absorbed") return;
    const st = tm.create(msg, src);
    assert.ok(st.ok);
    const r = tm.relay(st, { proto: "udp", addr: "127.0.0.1", port: uas.port }, (branch) =>
      msg.rewrite({ prepend: [`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`] }),
    );
    assert.ok(r.ok);
  });
  await transport.start();
  const port = transport.listeners()[0]?.port ?? 0;
  const tm = new TransactionLayer({ transport: asTmTransport(transport), logger, t1: 50 });
  ref.tm = tm;
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "wt-1" })), port);
    await uac.expect(isResponse(100));
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), port);
    await uac.expect(isResponse(180));
    uas.send(answer(inv.msg, 200, "OK"), port);
    const ok = await uac.expect(isResponse(200));
    assert.equal(ok.msg.vias.length, 1);
    assert.equal(tm.stats.clientTransactions, 1);
  } finally {
    uac.close();
    uas.close();
    tm.stop();
    await transport.stop();
  }
});
