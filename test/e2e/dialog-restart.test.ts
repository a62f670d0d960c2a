// Dialogs survive `kill -9` of evsip: the real `evsip run` with a dialog journal on a temp dir
// record-routes a call between two scripted UDP peers, manages it with a $dlg_var and a profile, and
// is killed once the call is up. The restarted evsip, on the same dialogDir, counts the call in its
// profile at start, and the dialog's 3 s timeout fires there: dialog:end with reason timeout and the
// variable, and a BYE to each side with that side's tags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "../support/sipp.js";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
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
  const lines: string[] = [];
  const waiters: Array<[RegExp, (l: string) => void]> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (l) => {
    lines.push(l);
    for (const w of waiters.filter(([re]) => re.test(l))) w[1](l);
  });
  const logged = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push([re, resolve]));
  };
  return { child, exited: once(child, "exit"), logged };
}

test(
  "kill -9 of evsip: a managed call comes back with its var and profile, and its timeout ends it with BYEs",
  { timeout: 60_000 },
  async () => {
    const sipPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "evsip-dialogs-"));
    const caller = await SipPeer.open();
    const callee = await SipPeer.open();
    let a: Router | undefined;
    let b: Router | undefined;
    try {
      a = startRouter(sipPort, callee.port, dir);
      await a.logged(/listening on udp/);
      await a.logged(/calls profile at start: 0/);

      caller.send(
        sipText([
          `INVITE sip:bob@127.0.0.1:${sipPort} SIP/2.0`,
          `Via: SIP/2.0/UDP ${caller.hostport};branch=${caller.branch()};rport`,
          "Max-Forwards: 70",
          `From: "Alice" <sip:alice@example.com>;tag=a-tag`,
          "To: <sip:bob@example.com>",
          "Call-ID: restart-1",
          "CSeq: 10 INVITE",
          `Contact: <sip:alice@${caller.hostport}>`,
        ]),
        sipPort,
      );
      const inv = (await callee.expect(isRequest("INVITE"), 10_000)).msg;
      const ok = answer(inv, 200, "OK", "b-tag").replace("Content-Length: 0\r\n\r\n", "").split("\r\n").filter(Boolean);
      for (const rr of inv.headerValues("record-route")) ok.push(`Record-Route: ${rr}`);
      ok.push(`Contact: <sip:bob@${callee.hostport}>`);
      callee.send(sipText(ok), sipPort);
      const ok200 = (await caller.expect(isResponse(200, "INVITE"))).msg;
      caller.send(
        sipText([
          `ACK sip:bob@${callee.hostport} SIP/2.0`,
          `Via: SIP/2.0/UDP ${caller.hostport};branch=${caller.branch()};rport`,
          "Max-Forwards: 70",
          ...[...ok200.headerValues("record-route")].reverse().map((r) => `Route: ${r}`),
          `From: "Alice" <sip:alice@example.com>;tag=a-tag`,
          `To: ${ok200.header("to") ?? ""}`,
          "Call-ID: restart-1",
          "CSeq: 10 ACK",
        ]),
        sipPort,
      );
      await callee.expect(isRequest("ACK"));

      a.child.kill("SIGKILL");
      await a.exited;
      assert.equal(caller.count(isRequest("BYE")) + callee.count(isRequest("BYE")), 0, "no BYE before the restart");

      b = startRouter(sipPort, callee.port, dir);
      await b.logged(/calls profile at start: 1/);
      const restored = JSON.parse(await b.logged(/dialog store: live dialogs restored/)) as { restored: number; dropped: number };
      assert.deepEqual([restored.restored, restored.dropped], [1, 0]);

      const toCallee = (await callee.expect(isRequest("BYE"), 10_000)).msg;
      assert.deepEqual([toCallee.callId, toCallee.from.tag, toCallee.to.tag], ["restart-1", "a-tag", "b-tag"]);
      assert.equal(toCallee.requestUri, `sip:bob@${callee.hostport}`, "the callee's Contact");
      const toCaller = (await caller.expect(isRequest("BYE"), 10_000)).msg;
      assert.deepEqual([toCaller.callId, toCaller.from.tag, toCaller.to.tag], ["restart-1", "b-tag", "a-tag"]);
      assert.equal(toCaller.requestUri, `sip:alice@${caller.hostport}`, "the caller's Contact");
      callee.send(answer(toCallee, 200, "OK"), sipPort);
      caller.send(answer(toCaller, 200, "OK"), sipPort);
      await b.logged(/dialog:end reason=timeout caller=alice/);
    } finally {
      caller.close();
      callee.close();
      for (const r of [a, b]) {
        if (!r) continue;
        r.child.kill("SIGKILL");
        await r.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
