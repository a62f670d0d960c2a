// The billing chaos run's SIPp scenarios (examples/billing/sipp) against the messages a router's
// restart and dialog timer bring them, each sent by a scripted peer on a real UDP socket in the
// router's place: a BYE from the router while the call is still up, a BYE crossing the party's own
// (and its own BYE's 200 after it), a second BYE, a BYE before the ACK, the ACK after the BYE, and
// the INVITE's 200 re-sent late. SIPp aborts a call on a
// message its scenario does not expect, which fails a chaos run on SIPp's side, not the router's;
// and a caller that took the INVITE's late 200 for its BYE's would stop re-sending a BYE the
// restarted router has not seen. Each pair is SIPp's real process against the peer. SIPp stays
// 12 s at the end of a call (the scenarios' Timer J), so the cases run side by side.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { hasSipp, SKIP_NO_SIPP, startSipp, type SippResult } from "../support/sipp.js";
import { isRequest, isResponse, SipPeer, sipText, type Received } from "../support/sip-peer.js";
import type { SipMessageLike } from "../../src/sip/types.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;
const SCENARIOS = resolve("examples/billing/sipp");
/** A call's pause is 0.5–3 s, then 12 s of Timer J: SIPp is done within about 16 s. */
const SIPP_TIMEOUT_S = 25;

/** A running SIPp on one of the billing scenarios, with its -trace_logs lines read back at the end. */
interface Party {
  readonly port: number;
  /** SIPp's exit and its log, once it has ended on its own. */
  finished(): Promise<{ result: SippResult; log: string[] }>;
  /** Ends SIPp if it still runs (a failed case) and removes its folder. */
  stop(): Promise<void>;
}

async function party(scenario: string, extra: string[], target?: string): Promise<Party & { ready: Promise<void> }> {
  // SIPp runs in its own folder (startSipp's, kept until the log is read), so the log's name is relative.
  const p = await startSipp({
    scenario: join(SCENARIOS, scenario),
    timeoutSec: SIPP_TIMEOUT_S,
    service: "caller-bye",
    keepDir: true,
    extraArgs: ["-trace_logs", "-log_file", "calls.log", ...extra],
    ...(target === undefined ? {} : { target }),
  });
  const finished = p.done.then((result) => {
    let log: string[] = [];
    try {
      log = readFileSync(join(result.dir, "calls.log"), "utf8")
        .split("\n")
        .filter((l) => l !== "");
    } catch {
      // no call got as far as a log line
    }
    rmSync(result.dir, { recursive: true, force: true });
    return { result, log };
  });
  return {
    port: p.port,
    ready: p.ready,
    finished: () => finished,
    stop: async () => {
      await p.stop();
      await finished;
    },
  };
}

/** A caller scenario calling the peer: SIPp sends to it, and [callee] names it. */
async function caller(scenario: string, peer: SipPeer): Promise<Party> {
  return party(scenario, ["-key", "callee", peer.hostport], peer.hostport);
}

/** A callee scenario the peer calls. */
async function callee(scenario: string): Promise<Party> {
  const p = await party(scenario, []);
  try {
    await p.ready;
  } catch (e) {
    await p.stop(); // it never bound its port: not left running until its timeout
    throw e;
  }
  return p;
}

/** The lines of a received message copied into a response to it, as a UAS does (RFC 3261 §8.2.6). */
function answer(req: SipMessageLike, status: string, extra: string[] = [], toTag?: string): string {
  const h = (name: string): string[] => req.headerValues(name).map((v) => `${name}: ${v}`);
  const to = toTag === undefined ? h("To") : [`To: ${req.header("To") ?? ""};tag=${toTag}`];
  return sipText([`SIP/2.0 ${status}`, ...h("Via"), ...h("From"), ...to, ...h("Call-ID"), ...h("CSeq"), ...extra]);
}

/** A request from the peer inside the dialog the INVITE opened, the peer on its callee side. */
function requestAsCallee(peer: SipPeer, invite: SipMessageLike, method: string, cseq: number, toTag: string): string {
  return sipText([
    `${method} ${invite.contact?.uri.raw ?? ""} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    `From: ${invite.header("To") ?? ""};tag=${toTag}`,
    `To: ${invite.header("From") ?? ""}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${cseq} ${method}`,
    "Max-Forwards: 70",
  ]);
}

/** The peer as callee: takes the INVITE, answers 200 and takes the ACK. */
async function answered(peer: SipPeer): Promise<{ invite: Received; ok: string; toTag: string }> {
  const invite = await peer.expect(isRequest("INVITE"), 10_000);
  const toTag = `peer${peer.port}`;
  const ok = answer(invite.msg, "200 OK", [`Contact: <sip:${peer.hostport}>`], toTag);
  peer.send(ok, invite.from.port);
  await peer.expect(isRequest("ACK"), 5_000);
  return { invite, ok, toTag };
}

/** The peer as caller, calling a callee scenario on `port`. */
function calling(
  peer: SipPeer,
  port: number,
): { answered(): Promise<string>; inDialog(method: string, cseq: number, toTag: string): string } {
  const from = `<sip:caller@${peer.hostport}>;tag=peer${peer.port}`;
  const lines = (method: string, cseq: number, uri: string, to: string): string[] => [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: scenario-${peer.port}@127.0.0.1`,
    `CSeq: ${cseq} ${method}`,
    "Max-Forwards: 70",
  ];
  const to = `<sip:callee@127.0.0.1:${port}>`;
  return {
    answered: async () => {
      peer.send(sipText([...lines("INVITE", 1, `sip:callee@127.0.0.1:${port}`, to), `Contact: <sip:${peer.hostport}>`]), port);
      return (await peer.expect(isResponse(200, "INVITE"), 5_000)).msg.to.tag ?? "";
    },
    inDialog: (method, cseq, toTag) => sipText(lines(method, cseq, `sip:127.0.0.1:${port}`, `${to};tag=${toTag}`)),
  };
}

const matching = (log: string[], word: string): number => log.filter((l) => l.startsWith(`${word} `)).length;

/**
 * Runs `scenario` as the caller (calling the peer) or the callee (called by it) while `script`
 * plays the router's part on the peer; SIPp must then end with 0. Returns SIPp's log lines and the
 * peer (closed, its `received` kept). SIPp is stopped and its folder removed whatever happens.
 */
async function play(
  role: "caller" | "callee",
  scenario: string,
  script: (peer: SipPeer, party: Party) => Promise<void>,
): Promise<{ log: string[]; peer: SipPeer }> {
  const peer = await SipPeer.open();
  let p: Party | undefined;
  try {
    p = role === "caller" ? await caller(scenario, peer) : await callee(scenario);
    await script(peer, p);
    const { result, log } = await p.finished();
    assert.equal(result.code, 0, result.stdout.slice(-1500));
    return { log, peer };
  } finally {
    await p?.stop();
    peer.close();
  }
}

const CASE = { skip, timeout: 40_000 };

describe("billing chaos SIPp scenarios", { concurrency: true }, () => {
  test("uac-hangup.xml answers the router's BYE during the talk and logs the call's end once", CASE, async () => {
    const { log, peer } = await play("caller", "uac-hangup.xml", async (peer) => {
      const { invite, toTag } = await answered(peer);
      peer.send(requestAsCallee(peer, invite.msg, "BYE", 1, toTag), invite.from.port);
      await peer.expect(isResponse(200, "BYE"), 5_000);
    });
    assert.equal(matching(log, "ended"), 1, log.join("\n"));
    assert.equal(peer.count(isRequest("BYE")), 0, "the caller's own BYE is not sent after the call ended");
  });

  test("uac-hangup.xml does not take the INVITE's late 200 for its BYE's: it ACKs it and re-sends the BYE", CASE, async () => {
    const { log } = await play("caller", "uac-hangup.xml", async (peer) => {
      const { invite, ok } = await answered(peer);
      const bye = await peer.expect(isRequest("BYE"), 5_000);
      peer.send(ok, invite.from.port); // the INVITE's 200, re-sent by the callee, late through a restarted router
      await peer.expect(isRequest("ACK"), 5_000);
      // A BYE re-sent after that ACK, not one already on its way before the late 200: T1 later, the
      // BYE is still unanswered.
      const afterAck = peer.received.length;
      const again = await peer.expect(
        (m) => isRequest("BYE")(m) && peer.received.findIndex((r) => r.msg === m) >= afterAck,
        5_000,
      );
      assert.equal(again.msg.topVia.branch, bye.msg.topVia.branch, "a retransmission of the same BYE");
      peer.send(answer(again.msg, "200 OK"), again.from.port);
    });
    assert.equal(matching(log, "ended"), 1, log.join("\n"));
  });

  test("uac-hangup.xml answers the router's BYE before the INVITE's 200, and takes that 200 late", CASE, async () => {
    const { log } = await play("caller", "uac-hangup.xml", async (peer) => {
      const invite = await peer.expect(isRequest("INVITE"), 10_000);
      const toTag = `peer${peer.port}`;
      const ok = answer(invite.msg, "200 OK", [`Contact: <sip:${peer.hostport}>`], toTag);
      peer.send(requestAsCallee(peer, invite.msg, "BYE", 1, toTag), invite.from.port); // the timeout's BYE, first
      await peer.expect(isResponse(200, "BYE"), 5_000);
      // The callee's 200, re-sent late through the restarted router, while the caller waits out Timer J:
      // SIPp 3.6.1 aborted the whole process on it when the INVITE had a transaction of its own.
      peer.send(ok, invite.from.port);
    });
    assert.equal(matching(log, "ended"), 1, log.join("\n"));
  });

  test("uac-hangup.xml answers a BYE that crossed its own and takes its own BYE's 200 after it", CASE, async () => {
    const { log } = await play("caller", "uac-hangup.xml", async (peer) => {
      const { invite, toTag } = await answered(peer);
      const own = await peer.expect(isRequest("BYE"), 5_000); // the caller's, crossing the router's
      peer.send(requestAsCallee(peer, invite.msg, "BYE", 1, toTag), invite.from.port);
      await peer.expect(isResponse(200, "BYE"), 5_000);
      peer.send(answer(own.msg, "200 OK"), own.from.port); // its own BYE's, answered by the callee after all
    });
    assert.equal(matching(log, "ended"), 1, log.join("\n"));
  });

  test("uac-await-bye.xml answers a second BYE after the first and logs the call's end once", CASE, async () => {
    const { log } = await play("caller", "uac-await-bye.xml", async (peer) => {
      const { invite, toTag } = await answered(peer);
      peer.send(requestAsCallee(peer, invite.msg, "BYE", 1, toTag), invite.from.port);
      await peer.expect(isResponse(200, "BYE"), 5_000);
      peer.send(requestAsCallee(peer, invite.msg, "BYE", 2, toTag), invite.from.port); // the router's, crossing the callee's
      await peer.expect(isResponse(200, "BYE"), 5_000);
    });
    assert.equal(matching(log, "ended"), 1, log.join("\n"));
  });

  test("uas-hangup.xml answers a BYE that crossed its own and takes its own BYE's 200 after it", CASE, async () => {
    const { log } = await play("callee", "uas-hangup.xml", async (peer, uas) => {
      const call = calling(peer, uas.port);
      const toTag = await call.answered();
      peer.send(call.inDialog("ACK", 1, toTag), uas.port);
      const own = await peer.expect(isRequest("BYE"), 5_000); // the callee's, crossing the router's
      peer.send(call.inDialog("BYE", 2, toTag), uas.port);
      await peer.expect(isResponse(200, "BYE"), 5_000);
      peer.send(answer(own.msg, "200 OK"), uas.port);
    });
    assert.equal(matching(log, "hangup"), 1, log.join("\n"));
  });

  test("uas-answer.xml answers a second BYE after the first", CASE, async () => {
    await play("callee", "uas-answer.xml", async (peer, uas) => {
      const call = calling(peer, uas.port);
      const toTag = await call.answered();
      peer.send(call.inDialog("ACK", 1, toTag), uas.port);
      peer.send(call.inDialog("BYE", 2, toTag), uas.port); // the router's, its dialog timer
      await peer.expect(isResponse(200, "BYE"), 5_000);
      peer.send(call.inDialog("BYE", 3, toTag), uas.port); // the caller's, crossing it
      await peer.expect(isResponse(200, "BYE"), 5_000);
    });
  });

  // The caller's ACK can come after the BYE: its first copy was lost while the router was down, and
  // the callee's 200, re-sent late through the restarted router, brings another after the call ended.
  // The same outage can lose the BYE's 200, so the BYE comes again after that ACK.
  for (const scenario of ["uas-answer.xml", "uas-hangup.xml"]) {
    test(`${scenario} takes an ACK that comes after the BYE it answered, and answers that BYE again after it`, CASE, async () => {
      const { log } = await play("callee", scenario, async (peer, uas) => {
        const call = calling(peer, uas.port);
        const toTag = await call.answered();
        const bye = call.inDialog("BYE", 2, toTag);
        peer.send(bye, uas.port);
        await peer.expect(isResponse(200, "BYE"), 5_000);
        peer.send(call.inDialog("ACK", 1, toTag), uas.port);
        // The BYE once more (its 200 lost on the way): answered again, to the BYE, not to the ACK.
        peer.send(bye, uas.port);
        await peer.expect(isResponse(200, "BYE"), 5_000);
      });
      assert.equal(matching(log, "hangup"), 0, log.join("\n"));
    });
  }

  for (const acked of [false, true]) {
    const when = acked ? "during its talk, before its own BYE" : "before the ACK";
    test(`uas-hangup.xml answers a BYE ${when} and sends none of its own`, CASE, async () => {
      const { log, peer } = await play("callee", "uas-hangup.xml", async (peer, uas) => {
        const call = calling(peer, uas.port);
        const toTag = await call.answered();
        if (acked) peer.send(call.inDialog("ACK", 1, toTag), uas.port);
        peer.send(call.inDialog("BYE", 2, toTag), uas.port);
        await peer.expect(isResponse(200, "BYE"), 5_000);
      });
      assert.equal(matching(log, "hangup"), 0, log.join("\n"));
      assert.equal(peer.count(isRequest("BYE")), 0, "the callee sends no BYE of its own after the call ended");
    });
  }
});
