// The load tool's UAC (bench/load/uac.ts) over real UDP sockets: each final is matched to its
// request by branch and Call-ID, provisionals are counted and not taken as answers, a second final
// and an answer with the wrong Call-ID are strays, and a request never answered is lost (status 0)
// once the deadline passes. The call flow against the tool's own UAS: INVITE 200, ACK, BYE 200;
// the UAS re-sends an INVITE's 200 until its ACK comes, as a UAS must.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { Schedule } from "../../bench/load/schedule.js";
import { runUac } from "../../bench/load/uac.js";
import { replyPort, startUas } from "../../bench/load/uas.js";

/**
 * A scripted router: request i (from its Call-ID) is answered as `script(i)` says, where its Via
 * says, or to its source port when `toSource` (as a router that forces rport does).
 */
async function scriptedRouter(
  script: (i: number) => { codes: number[]; callId?: string },
  toSource = false,
  viaOf: (via: string) => string = (via) => via,
) {
  const sock = createSocket("udp4");
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  sock.on("message", (msg, rinfo) => {
    const text = msg.toString("latin1");
    const line = (name: string): string => new RegExp(`^${name}:.*$`, "m").exec(text)?.[0] ?? "";
    const callId = line("Call-ID").slice(8).trim();
    const plan = script(Number(callId.split("-").at(-1)));
    for (const code of plan.codes) {
      const id = plan.callId === undefined ? line("Call-ID") : `Call-ID: ${plan.callId}`;
      const head = [
        `SIP/2.0 ${code} X`,
        viaOf(line("Via")),
        line("From"),
        `${line("To")};tag=t`,
        id,
        line("CSeq"),
        "Content-Length: 0",
      ];
      const res = `${head.join("\r\n")}\r\n\r\n`;
      sock.send(res, toSource ? rinfo.port : replyPort(Buffer.from(res, "latin1"), rinfo.port), rinfo.address);
    }
  });
  return { port: sock.address().port, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

for (const pacer of ["thread", "timer"] as const) {
  test(`finals matched by branch and Call-ID; provisionals, strays and lost requests counted apart (${pacer} pacer)`, async () => {
    const router = await scriptedRouter((i) => {
      if (i % 5 === 0) return { codes: [] };
      if (i % 5 === 1) return { codes: [100, 200] };
      if (i % 5 === 2) return { codes: [200, 200] };
      if (i % 5 === 3) return { codes: [486] };
      return { codes: [200], callId: "someone-else" };
    });
    try {
      const opts = {
        port: router.port,
        flow: "options",
        sockets: 2,
        rcvbuf: 65536,
        deadlineMs: 1000,
        runId: "T1",
        pacer,
      } as const;
      const r = await runUac(new Schedule([{ rate: 1000, seconds: 0.02 }]), opts);
      const want = Array.from({ length: 20 }, (_, i) => [0, 200, 200, 486, 0][i % 5]);
      assert.deepEqual([...r.first.status], want);
      r.first.latencyUs.forEach((us, i) => assert.equal(Number.isNaN(us), want[i] === 0, `latency of ${i}: ${us}`));
      assert.equal(r.provisionals, 4);
      assert.equal(r.strays, 4, "the second 200 of each i % 5 === 2");
      assert.equal(r.mismatched, 4, "the answers with another Call-ID");
      assert.equal(r.drops, 0);
    } finally {
      await router.close();
    }
  });
}

test("the call flow: INVITE answered by the UAS, then ACK and BYE, the BYE's final measured apart", async () => {
  const uas = await startUas(65536);
  try {
    // A deadline far beyond the test's timeout: the run must end when the last BYE is answered.
    const opts = { port: uas.port, flow: "call", sockets: 1, rcvbuf: 65536, deadlineMs: 600_000, runId: "T2" } as const;
    const r = await runUac(new Schedule([{ rate: 1000, seconds: 0.02 }]), opts);
    assert.deepEqual([...r.first.status], Array(20).fill(200));
    assert.deepEqual([...r.bye.status], Array(20).fill(200));
    assert.ok(r.bye.latencyUs.every((us) => us > 0));
    assert.equal(uas.answered(), 40, "20 INVITEs and 20 BYEs; ACKs are not answered");
    // Every ACK went before its BYE, and the UAS reads in order: none is left waiting.
    assert.equal(uas.unacked(), 0);
    // A 200 is re-sent only if its ACK took over T1 (a stalled machine): each such copy is a stray.
    assert.ok(r.strays <= uas.resent(), `${r.strays} strays, ${uas.resent()} re-sent`);
    assert.equal(r.mismatched, 0);
  } finally {
    await uas.close();
  }
});

test("the UAS re-sends an INVITE's 200 until the ACK comes (RFC 3261 §13.3.1.4), then stops", async () => {
  const uas = await startUas(65536);
  const caller = createSocket("udp4");
  try {
    caller.bind(0, "127.0.0.1");
    await once(caller, "listening");
    const me = `127.0.0.1:${caller.address().port}`;
    const req = (method: string, branch: string): string =>
      `${method} sip:uas@127.0.0.1:${uas.port} SIP/2.0\r\nVia: SIP/2.0/UDP ${me};branch=${branch}\r\n` +
      `From: <sip:c@${me}>;tag=f\r\nTo: <sip:uas@127.0.0.1>\r\nCall-ID: resend-1\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
    // The next datagram whose text matches `re`, or a failure after 10 s (T1 is 0.5 s).
    const next = (re: RegExp): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing matching ${re} in 10 s`)), 10_000);
        const on = (m: Buffer): void => {
          if (!re.test(m.toString("latin1"))) return;
          clearTimeout(timer);
          caller.off("message", on);
          resolve(m);
        };
        caller.on("message", on);
      });
    const first = next(/CSeq: 1 INVITE/);
    caller.send(req("INVITE", "z9hG4bKi"), uas.port, "127.0.0.1");
    const answer = await first;
    assert.match(answer.toString("latin1"), /^SIP\/2\.0 200/);
    assert.equal(uas.unacked(), 1);
    // No ACK: the same 200 comes again about T1 (500 ms) later.
    assert.deepEqual(await next(/CSeq: 1 INVITE/), answer);
    assert.ok(uas.resent() >= 1);
    caller.send(req("ACK", "z9hG4bKa"), uas.port, "127.0.0.1");
    // The UAS reads its socket in order: once the OPTIONS is answered, the ACK has been taken.
    const options = next(/CSeq: 1 OPTIONS/);
    caller.send(req("OPTIONS", "z9hG4bKo").replace("Call-ID: resend-1", "Call-ID: resend-2"), uas.port, "127.0.0.1");
    await options;
    assert.equal(uas.unacked(), 0, "the ACK ended the re-sending");
    // A copy of the INVITE re-sent late (by a proxy) is answered, and does not start it again.
    const again = next(/CSeq: 1 INVITE/);
    caller.send(req("INVITE", "z9hG4bKi"), uas.port, "127.0.0.1");
    await again;
    assert.equal(uas.unacked(), 0, "no new schedule after the ACK");
    assert.equal(uas.gaveUp(), 0);
  } finally {
    caller.close();
    await uas.close();
  }
});

test("a router that answers to the source port, not the Via's, shows as answers at the sending thread", async () => {
  const router = await scriptedRouter(() => ({ codes: [200] }), true);
  try {
    const opts = { port: router.port, flow: "options", sockets: 1, rcvbuf: 65536, deadlineMs: 1000, runId: "T3" } as const;
    const r = await runUac(new Schedule([{ rate: 1000, seconds: 0.01 }]), opts);
    assert.deepEqual([...r.first.status], Array(10).fill(0), "lost to the tool");
    assert.equal(r.answersAtSender, 10, "and counted where they went");
  } finally {
    await router.close();
  }
});

test("replyPort: the source port with rport, else the Via's sent-by port (5060 when absent)", () => {
  assert.equal(replyPort(Buffer.from("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\n"), 4000), 5070);
  assert.equal(replyPort(Buffer.from("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bKa\r\n"), 4000), 4000);
  assert.equal(
    replyPort(Buffer.from("SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKa\r\n"), 4000),
    5071,
    "compact form",
  );
  assert.equal(replyPort(Buffer.from("SIP/2.0 200 OK\r\nCall-ID: x\r\n"), 4000), 4000, "no Via: where it came from");
  assert.equal(replyPort(Buffer.from("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP host.example;branch=z9hG4bKa\r\n"), 4000), 5060);
});

for (const pacer of ["thread", "timer"] as const) {
  test(`--oc: the requests ask for RFC 7339 feedback, and what it asks is held back, not sent and not lost (${pacer} pacer)`, async () => {
    const vias: string[] = [];
    // A router that asks for all of it: every new request after its first answer is held back.
    const router = await scriptedRouter(
      () => ({ codes: [503] }),
      false,
      (via) => {
        vias.push(via);
        return via.replace(';oc;oc-algo="loss"', ';oc=100;oc-algo="loss";oc-validity=60000;oc-seq=1.000');
      },
    );
    try {
      const opts = {
        port: router.port,
        flow: "options",
        sockets: 1,
        rcvbuf: 65536,
        deadlineMs: 1000,
        runId: "OC",
        pacer,
        oc: true,
      } as const;
      const r = await runUac(new Schedule([{ rate: 1000, seconds: 0.2 }]), opts);
      const sent = [...r.first.sent].filter((s) => s === 1).length;
      const held = [...r.first.sent].filter((s) => s === 2).length;
      assert.equal(sent + held, 200);
      assert.ok(sent >= 1 && held >= 150, `sent ${sent}, held back ${held}`);
      assert.ok(vias.length === sent && vias.every((v) => v.endsWith(';oc;oc-algo="loss"')), vias[0]);
      r.first.status.forEach((s, i) => assert.equal(s === 503, r.first.sent[i] === 1, `request ${i}: every sent one answered`));
    } finally {
      await router.close();
    }
  });
}
