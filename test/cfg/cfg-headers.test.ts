// textops header functions on a real engine's route context: what append_hf, remove_hf and
// append_to_reply record (ctx.headerEdits, ctx.replyHeaders), what they refuse, and what
// is_present_hf sees. Their effect on the wire, against Kamailio: test/interop/cfg-headers-kamailio.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { loadCfgText } from "../../src/cfg/load-cfg.js";
import { headerLines } from "../../src/core/header-edits.js";
import { routeContext } from "../support/route-context.js";

function run(body: string): ReturnType<typeof routeContext> {
  const { app } = loadCfgText(`loadmodule "textops.so"\nrequest_route {\n${body}\n}\n`, "t.cfg");
  const ctx = routeContext();
  void app.request?.(ctx as never);
  return ctx;
}

test("append_hf and append_to_reply take Kamailio's text (CRLF-ended, several lines) and keep the lines apart", () => {
  const ctx = run(`
    append_hf("X-One: $fU\\r\\n");
    append_hf("X-Two: 2\\r\\nX-Three: 3\\r\\n");
    append_hf("X-Bare: no crlf");
    append_to_reply("Retry-After: 30\\r\\n");
  `);
  assert.deepEqual(ctx.headerEdits, { append: ["X-One: alice", "X-Two: 2", "X-Three: 3", "X-Bare: no crlf"], remove: [] });
  assert.deepEqual(ctx.replyHeaders, ["Retry-After: 30"]);
});

test("text that is not header lines is refused (-1, nothing added): no name, a smuggled line, empty", () => {
  const ctx = run(`
    if (!append_hf("no colon here\\r\\n")) $var(a) = "refused";
    if (!append_hf("X-A: 1\\r\\n\\r\\nINVITE sip:x SIP/2.0\\r\\n")) $var(b) = "refused";
    if (!append_hf("X-A: 1\\rX-B: 2")) $var(c) = "refused";
    if (!append_to_reply("")) $var(d) = "refused";
    if (!append_hf(": value")) $var(e) = "refused";
    if (!append_hf("X-A: 1\u010aX-B: 2")) $var(f) = "refused";
  `);
  // f: U+010A is written as LF (latin1 keeps the low byte), so it would smuggle a line too.
  assert.deepEqual(
    ["a", "b", "c", "d", "e", "f"].map((n) => ctx.pv(`$var(${n})`)),
    ["refused", "refused", "refused", "refused", "refused", "refused"],
  );
  assert.equal(ctx.headerEdits, undefined);
  assert.equal(ctx.replyHeaders, undefined);
});

test("remove_hf is true when the message has the header (compact forms too); is_present_hf reads the message as received", () => {
  const ctx = run(`
    if (remove_hf("X-Account")) $var(a) = "removed";
    if (!remove_hf("X-Nothing")) $var(b) = "none";
    if (is_present_hf("X-Account")) $var(c) = "still in the received message";
    if (is_present_hf("c") && !is_present_hf("Subject")) $var(d) = "compact";
  `);
  assert.deepEqual(
    ["a", "b", "c", "d"].map((n) => ctx.pv(`$var(${n})`)),
    ["removed", "none", "still in the received message", "compact"],
  );
  assert.deepEqual(ctx.headerEdits, { append: [], remove: ["X-Account"] });
  assert.equal(ctx.removeHeader("X-Account"), 2);
  assert.equal(ctx.removeHeader("bad name"), 0);
});

test("refused at load: append_hf's two-argument form, and the functions without textops", () => {
  assert.throws(() => run('append_hf("X-A: 1\\r\\n", "Via");'), /append_hf\(\) takes 1 argument\(s\), got 2/);
  assert.throws(
    () => loadCfgText('request_route { append_hf("X-A: 1\\r\\n"); }', "t.cfg"),
    /append_hf\(\) needs loadmodule "textops.so"/,
  );
});

test("headerLines: any text gives header lines (a token, a colon, no CR or LF) or nothing", () => {
  const piece = fc.constantFrom(
    "X-A",
    ": ",
    "\t",
    "v",
    "\r\n",
    "\n",
    "\r",
    ":",
    " ",
    "a b",
    "\u00e9",
    "INVITE sip:x SIP/2.0",
    "",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(piece, { maxLength: 12 }).map((a) => a.join("")),
      ),
      (text) => {
        const lines = headerLines(text);
        if (lines === undefined) return;
        assert.ok(lines.length > 0);
        for (const l of lines) assert.match(l, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:[^\r\n]*$/);
      },
    ),
    { numRuns: 2000 },
  );
});
