// Dialogs survive `kill -9` of evsip: the real `evsip run` with a dialog journal on a temp dir
// record-routes a call between two scripted UDP peers, manages it with a $dlg_var and a profile, and
// is killed once the call is up. The restarted evsip, on the same dialogDir, counts the call in its
// profile at start, and the dialog's 5 s timeout fires there: dialog:end with reason timeout and the
// variable, and a BYE to each side with that side's tags. A call whose router is killed between the
// INVITE and the 200 is answered across the restart: the callee's 200, matching no transaction in
// the new process, confirms the dialog the journal kept, and a copy of the INVITE arriving after it
// is absorbed, not taken for a new call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childLines } from "../support/child-lines.js";
import { freePort } from "../support/sipp.js";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import type { SipMessageLike as SipMessage } from "../../src/sip/types.js";
import { answer } from "../support/tm-harness.js";

interface Router {
  child: ChildProcess;
  exited: Promise<unknown>;
  logged(re: RegExp): Promise<string>;
}

function startRouter(sipPort: number, calleePort: number, dir: string): Router {
  const child = spawn(
    process.execPath,
    ["bin/evsip.js", "run", "test/fixtures/apps/dialog-restart.ts", "--listen", `udp:127.0.0.1:${sipPort}`],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, DIALOG_DIR: dir, UPSTREAM: `sip:127.0.0.1:${calleePort}` },
    },
  );
  const { logged } = childLines(child);
  return { child, exited: once(child, "exit"), logged };
}

interface Call {
  readonly sipPort: number;
  readonly caller: SipPeer;
  readonly callee: SipPeer;
  readonly callId: string;
}

/** The caller's initial INVITE, with a branch of its own. */
function inviteText(c: Call): string {
  return sipText([
    `INVITE sip:bob@127.0.0.1:${c.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${c.caller.hostport};branch=${c.caller.branch()};rport`,
    "Max-Forwards: 70",
    `From: "Alice" <sip:alice@example.com>;tag=a-tag`,
    "To: <sip:bob@example.com>",
    `Call-ID: ${c.callId}`,
    "CSeq: 10 INVITE",
    `Contact: <sip:alice@${c.caller.hostport}>`,
  ]);
}

/** The caller's INVITE through the router; resolves with it as the callee got it. */
async function invite(c: Call, text = inviteText(c)): Promise<SipMessage> {
  c.caller.send(text, c.sipPort);
  return (await c.callee.expect(isRequest("INVITE"), 10_000)).msg;
}

/** The callee's 200 (Record-Route copied, its Contact) to the router; resolves with it as the caller got it. */
async function answer200(c: Call, inv: SipMessage): Promise<SipMessage> {
  const ok = answer(inv, 200, "OK", "b-tag").replace("Content-Length: 0\r\n\r\n", "").split("\r\n").filter(Boolean);
  for (const rr of inv.headerValues("record-route")) ok.push(`Record-Route: ${rr}`);
  ok.push(`Contact: <sip:bob@${c.callee.hostport}>`);
  c.callee.send(sipText(ok), c.sipPort);
  return (await c.caller.expect(isResponse(200, "INVITE"))).msg;
}

/** The caller's ACK along the route set; resolves once the callee got it. */
async function ack(c: Call, ok200: SipMessage): Promise<void> {
  c.caller.send(
    sipText([
      `ACK sip:bob@${c.callee.hostport} SIP/2.0`,
      `Via: SIP/2.0/UDP ${c.caller.hostport};branch=${c.caller.branch()};rport`,
      "Max-Forwards: 70",
      ...[...ok200.headerValues("record-route")].reverse().map((r) => `Route: ${r}`),
      `From: "Alice" <sip:alice@example.com>;tag=a-tag`,
      `To: ${ok200.header("to") ?? ""}`,
      `Call-ID: ${c.callId}`,
      "CSeq: 10 ACK",
    ]),
    c.sipPort,
  );
  await c.callee.expect(isRequest("ACK"));
}

/** The router's timeout BYEs reach both sides with each side's tags; both are answered, and dialog:end runs. */
async function timeoutByes(c: Call, r: Router): Promise<void> {
  const toCallee = (await c.callee.expect(isRequest("BYE"), 10_000)).msg;
  assert.deepEqual([toCallee.callId, toCallee.from.tag, toCallee.to.tag], [c.callId, "a-tag", "b-tag"]);
  assert.equal(toCallee.requestUri, `sip:bob@${c.callee.hostport}`, "the callee's Contact");
  const toCaller = (await c.caller.expect(isRequest("BYE"), 10_000)).msg;
  assert.deepEqual([toCaller.callId, toCaller.from.tag, toCaller.to.tag], [c.callId, "b-tag", "a-tag"]);
  assert.equal(toCaller.requestUri, `sip:alice@${c.caller.hostport}`, "the caller's Contact");
  c.callee.send(answer(toCallee, 200, "OK"), c.sipPort);
  c.caller.send(answer(toCaller, 200, "OK"), c.sipPort);
  await r.logged(/dialog:end reason=timeout caller=alice/);
}

/** Runs `body` with two routers' worth of set-up and leaves nothing behind. */
async function withRestart(body: (c: Call, dir: string, routers: Router[]) => Promise<void>): Promise<void> {
  const sipPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "evsip-dialogs-"));
  const caller = await SipPeer.open();
  const callee = await SipPeer.open();
  const routers: Router[] = [];
  try {
    await body({ sipPort, caller, callee, callId: `restart-${sipPort}` }, dir, routers);
  } finally {
    caller.close();
    callee.close();
    for (const r of routers) {
      r.child.kill("SIGKILL");
      await r.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A router on the call's ports and `dir`, kept for the clean-up, once it logged its "calls" profile
 * at start, which must be `calls` (failing at once rather than waiting for a line that never comes).
 */
async function routerUp(c: Call, dir: string, routers: Router[], calls: number): Promise<Router> {
  const r = startRouter(c.sipPort, c.callee.port, dir);
  routers.push(r);
  const line = await r.logged(/calls profile at start: \d+/);
  assert.equal(/calls profile at start: (\d+)/.exec(line)?.[1], String(calls), line);
  return r;
}

async function kill9(r: Router): Promise<void> {
  r.child.kill("SIGKILL");
  await r.exited;
}

test(
  "kill -9 of evsip: a managed call comes back with its var and profile, and its timeout ends it with BYEs",
  { timeout: 60_000 },
  () =>
    withRestart(async (c, dir, routers) => {
      const a = await routerUp(c, dir, routers, 0);
      await ack(c, await answer200(c, await invite(c)));
      await kill9(a);
      assert.equal(c.caller.count(isRequest("BYE")) + c.callee.count(isRequest("BYE")), 0, "no BYE before the restart");

      const b = await routerUp(c, dir, routers, 1);
      const restored = JSON.parse(await b.logged(/dialog store: live dialogs restored/)) as { restored: number; dropped: number };
      assert.deepEqual([restored.restored, restored.dropped], [1, 0]);
      await timeoutByes(c, b);
    }),
);

test(
  "kill -9 of evsip between the INVITE and its 200: the callee's 200 after the restart confirms the restored dialog",
  { timeout: 60_000 },
  () =>
    withRestart(async (c, dir, routers) => {
      const a = await routerUp(c, dir, routers, 0);
      const sent = inviteText(c);
      const inv = await invite(c, sent);
      await kill9(a);

      const b = await routerUp(c, dir, routers, 1);
      // The INVITE transaction died with the first router: this 200 matches none, goes back to the
      // caller by its Via, and confirms the dialog kept in the journal.
      const ok200 = await answer200(c, inv);
      assert.match(await b.logged(/dialog:start/), /caller=alice/);
      await ack(c, ok200);
      // A copy of the INVITE the caller re-sent while the router was down, arriving after the 200:
      // absorbed, neither answered (SIPp aborts a call on a 503 after its 200) nor relayed again.
      // Counted from here: the first router may have sent its 100 or a Timer A copy before the kill.
      const otherAnswers = (): number => c.caller.count((m) => !m.isRequest && m.cseq.method === "INVITE" && m.status !== 200);
      const [invitesBefore, answersBefore] = [c.callee.count(isRequest("INVITE")), otherAnswers()];
      c.caller.send(sent, c.sipPort);
      await timeoutByes(c, b);
      assert.equal(c.callee.count(isRequest("INVITE")), invitesBefore, "the re-sent INVITE was not relayed");
      assert.equal(otherAnswers(), answersBefore, "nor answered");
    }),
);
