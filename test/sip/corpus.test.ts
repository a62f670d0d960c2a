// The hostile corpus in test/fixtures/sip/ (cases after RFC 4475 and RFC 5118, in our own words):
// each file's outcome — "ok", or the exact code from parseMessage or validate() — as expected.json says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { parseMessage } from "../../src/sip/parse.js";

const DIR = "test/fixtures/sip";
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8")) as Record<string, { expect: string; note: string }>;

test("every corpus file has an expectation and back", () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith(".sip"))
    .map((f) => f.slice(0, -4))
    .sort();
  assert.deepEqual(files, Object.keys(expected).sort());
});

for (const [name, { expect, note }] of Object.entries(expected)) {
  test(`${name}: ${expect} (${note})`, () => {
    const r = parseMessage(readFileSync(`${DIR}/${name}.sip`));
    let got: string;
    if (!r.ok) got = r.code;
    else {
      const v = r.msg.validate();
      got = v.ok ? "ok" : v.code;
      // a message that validates must also let every getter run without throwing
      if (v.ok) {
        const m = r.msg;
        void [m.from, m.to, m.callId, m.cseq, m.vias, m.body, m.routes, m.recordRoutes, m.contact, m.userAgent];
      }
    }
    assert.equal(got, expect);
  });
}

test("torture message fields survive folding and odd spacing", () => {
  const r = parseMessage(readFileSync(`${DIR}/ok-torture-folding-compact.sip`));
  assert.ok(r.ok);
  const m = r.msg;
  assert.equal(m.to.tag, "1918181833n");
  assert.equal(m.from.displayName, 'J Rosenberg \\"');
  assert.equal(m.from.tag, "98asjd8");
  assert.equal(m.maxForwards, 68);
  assert.deepEqual(m.cseq, { seq: 9, method: "INVITE" });
  assert.deepEqual(
    m.vias.map((v) => [v.transport, v.host, v.branch]),
    [
      ["UDP", "192.0.2.2", "390skdjuw"],
      ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
      ["UDP", "192.168.255.111", "z9hG4bK30239"],
    ],
  );
  assert.equal(m.header("NewFangledHeader"), "newfangled value continued newfangled value");
  assert.equal(m.contact?.params.get("newparam"), "newvalue");
  assert.equal(m.contact?.params.get("q"), "0.33");
  assert.equal(m.routes[0]?.uri.params.get("unknownwith"), "value");
});
