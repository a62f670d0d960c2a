// examples/embedded/main.ts as built, in its own process: SIPp calls through it, the in-process
// decision service allows one and refuses the premium-rate one with 403; three INVITEs from one
// caller sent at once get two 200s and a 486 (the per-caller limit, counted under ctx.withLock:
// without the lock all three would pass the check while the first awaits its decision); the
// metrics endpoint on the port the server reports counts the answers, and SIGTERM drains and exits 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { childLines } from "../support/child-lines.js";
import { hasSipp, freePort, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { httpGet } from "../support/http-get.js";
import { isResponse, SipPeer, sipText } from "../support/sip-peer.js";

/** A request of call `callId` from user "burst" to 100 (an INVITE, or with the To-tag an in-dialog one). */
function request(
  peer: SipPeer,
  method: string,
  callId: string,
  sipPort: number,
  o: { toTag?: string; branch?: string; cseq?: number } = {},
): string {
  return sipText([
    `${method} sip:100@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${o.branch ?? peer.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:burst@127.0.0.1>;tag=f-${callId}`,
    `To: <sip:100@127.0.0.1:${sipPort}>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${callId}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:burst@${peer.hostport}>`,
  ]);
}

/** Three INVITEs from one caller at once; once all three are answered, ACKs each and ends the answered calls. */
async function burst(sipPort: number): Promise<number[]> {
  const peer = await SipPeer.open();
  try {
    const calls = ["burst-1", "burst-2", "burst-3"].map((id) => ({ id, branch: peer.branch() }));
    for (const c of calls) peer.send(request(peer, "INVITE", c.id, sipPort, { branch: c.branch }), sipPort);
    // All three finals first: a BYE sent meanwhile would free a place for the third.
    const finals = await Promise.all(
      calls.map(async (c) => (await peer.expect((m) => !m.isRequest && m.status >= 200 && m.callId === c.id, 5000)).msg),
    );
    for (const [i, f] of finals.entries()) {
      const c = calls[i] as { id: string; branch: string };
      const toTag = f.to.tag ?? "";
      // The ACK of a 2xx is a transaction of its own; the ACK of a 486 reuses the INVITE's branch.
      peer.send(request(peer, "ACK", c.id, sipPort, { toTag, branch: f.status < 300 ? undefined : c.branch }), sipPort);
      if (f.status >= 300) continue;
      peer.send(request(peer, "BYE", c.id, sipPort, { toTag, cseq: 2 }), sipPort);
      await peer.expect((m) => isResponse(200, "BYE")(m) && m.callId === c.id);
    }
    return finals.map((f) => f.status);
  } finally {
    peer.close();
  }
}

test(
  "examples/embedded: the router in its own process applies the awaited decision, reports metrics, and drains on SIGTERM",
  {
    skip: !hasSipp() && SKIP_NO_SIPP,
  },
  async () => {
    const sipPort = await freePort();
    const evapiPort = await freePort("tcp");
    const child = spawn(process.execPath, ["dist/examples/embedded/main.js", String(sipPort), String(evapiPort)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const out = childLines(child);
    try {
      const ready = await out.logged(/^ready: /);
      const metrics = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics$/.exec(ready);
      assert.ok(metrics, ready);
      const target = `127.0.0.1:${sipPort}`;
      const allowed = await runSipp({ scenario: "uac", target, service: "100", timeoutSec: 10 });
      assert.equal(allowed.code, 0, allowed.stderr || allowed.stdout.slice(-2000));
      const premium = await runSipp({ scenario: "uac-invite-403.xml", target, service: "900555", timeoutSec: 10 });
      assert.equal(premium.code, 0, premium.stderr);
      assert.deepEqual(await burst(sipPort), [200, 200, 486]);
      const body = (await httpGet("127.0.0.1", Number(metrics[1]), "/metrics")).body;
      // The third INVITE of the burst was refused before it asked the service.
      assert.match(body, /^evsip_evapi_requests_answered_total 4$/m);
      assert.match(body, /^evsip_evapi_decisions_applied_total 4$/m);
      const exited = once(child, "exit");
      const drained = out.next(/^drained: /);
      child.kill("SIGTERM");
      assert.equal(await drained, "drained: 0 in flight, 0 answered 503");
      assert.deepEqual(await exited, [0, null]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  },
);
