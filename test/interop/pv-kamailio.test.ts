// Pseudo-variables, transformations and the json/jansson functions, evaluated by a real Kamailio
// 5.6 and by evsip on the same request: every line xlog prints must be the text ctx.fmt gives.
// The cfg is generated from the table below; Kamailio runs it once for one OPTIONS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import { routeContext } from "../support/route-context.js";

const skip = kamailioSkipReason(["sl", "pv", "xlog", "json", "jansson", "tm", "tmx", "maxfwd"]);

/** [value of $var(v), template]. */
const CASES: ReadonlyArray<[string, string]> = [
  ["abcdef", "$(var(v){s.substr,1,2})|$(var(v){s.substr,2,0})|$(var(v){s.substr,-2,0})|$(var(v){s.substr,-3,1})"],
  ["abcdef", "$(var(v){s.substr,1,99})|[$(var(v){s.substr,6,1})]"],
  ["a,b,c", "$(var(v){s.select,1,,})"],
  ["a;b;c", "$(var(v){s.select,-1,;})|[$(var(v){s.select,5,;})]"],
  ["MiXed", "$(var(v){s.tolower})/$(var(v){s.toupper})|$(var(v){s.len})"],
  ["hello", "$(var(v){s.encode.base64})|$(var(v){s.encode.base64}{s.decode.base64})|$(var(v){s.md5})|$(var(v){s.sha256})"],
  ["-42", "$(var(v){s.int})"],
  ["42abc", "[$(var(v){s.int})]"],
  ["a-b-c", "$(var(v){s.rm,-})|$(var(v){s.replace,-,+})"],
  ["  x y  ", "[$(var(v){s.trim})]"],
  ["it's", "$(var(v){s.escape.common})"],
  ["a b&c=d/e", "$(var(v){s.urlencode.param})"],
  [
    "sip:bob@example.com:5070;transport=udp",
    "$(var(v){uri.user})|$(var(v){uri.host})|$(var(v){uri.port})|$(var(v){uri.param,transport})|[$(var(v){uri.param,lr})]",
  ],
  ["sip:bob@example.com", "[$(var(v){uri.port})]"],
  ["a=1;b=two;c", "$(var(v){param.value,b})|[$(var(v){param.value,c})]"],
  [
    '"Alice A." <sip:alice@a.example>;tag=123',
    "$(var(v){nameaddr.uri})|[$(var(v){nameaddr.name})]|$(var(v){tobody.user})|$(var(v){tobody.tag})",
  ],
  ["Bob <sip:b@x>", "[$(var(v){nameaddr.name})]"],
  [
    '{"a":{"b":[10,{"c":"x/y"}]},"s":"str","n":5,"z":null}',
    "$(var(v){json.parse,s})|$(var(v){json.parse,a.b[0]})|$(var(v){json.parse,a.b[1]})|$(var(v){json.parse,a.b[1].c})|$(var(v){json.parse,a})",
  ],
  ['{"a":1,"z":null}', "[$(var(v){json.parse,missing})]|[$(var(v){json.parse,z})]"],
  ["x", "$hdrc(Via)|$(hdr(X-A)[1])|$(hdr(X-A)[-1])|$(hdr(X-A)[*])|$(hdr(Via)[1]{s.len})|$cl|$cT|$rz"],
  ["x", "$fn|$tn|$ai|$di|$(rb{s.len})|$(rb{s.trim})"],
  ["x", "[$(avp(none){s.len})]|[$avp(none)]|$(avp(aa)[*])|$(avp(aa)[1])|$T_reply_code|$T_branch_idx"],
];

const JSON_DOC = '{"tm_trans":{"tm_index":4711,"l":"99"},"list":[1,2.5,{"k":true}],"s":"a/b"}';
/** [Kamailio call, evsip call], each leaving its result in $var(o). */
const FUNCTIONS: ReadonlyArray<[string, (c: ReturnType<typeof routeContext>) => unknown]> = [
  ['jansson_get("tm_trans.tm_index", "$var(j)", "$var(o)")', (c) => c.jansson.get("tm_trans.tm_index", JSON_DOC, "$var(o)")],
  ['jansson_get("list[1]", "$var(j)", "$var(o)")', (c) => c.jansson.get("list[1]", JSON_DOC, "$var(o)")],
  ['jansson_get("list[2].k", "$var(j)", "$var(o)")', (c) => c.jansson.get("list[2].k", JSON_DOC, "$var(o)")],
  ['jansson_get("list", "$var(j)", "$var(o)")', (c) => c.jansson.get("list", JSON_DOC, "$var(o)")],
  ['json_get_field("$var(j)", "s", "$var(o)")', (c) => c.json.getField(JSON_DOC, "s", "$var(o)")],
  ['json_get_field("$var(j)", "tm_trans", "$var(o)")', (c) => c.json.getField(JSON_DOC, "tm_trans", "$var(o)")],
  [
    '$var(o) = "{}"; jansson_set("string", "call.from", "alice", "$var(o)"); jansson_set("int", "call.n", "7", "$var(o)"); ' +
      'jansson_set("array", "call.tags", "[]", "$var(o)"); jansson_append("str", "call.tags", "x", "$var(o)")',
    (c) => {
      c.setPv("$var(o)", "{}");
      c.jansson.set("string", "call.from", "alice", "$var(o)");
      c.jansson.set("int", "call.n", "7", "$var(o)");
      c.jansson.set("array", "call.tags", "[]", "$var(o)");
      c.jansson.append("str", "call.tags", "x", "$var(o)");
    },
  ],
];

const cfgString = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

function cfg(): string {
  const lines = [
    "#!KAMAILIO",
    "debug=1",
    "log_stderror=yes",
    ...["sl", "pv", "xlog", "json", "jansson", "tm", "tmx", "maxfwd"].map((m) => `loadmodule "${m}.so"`),
    "request_route {",
    '  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }',
    '  $avp(aa) = "first"; $avp(aa) = 2; $avp(aa) = "third";',
    `  $var(j) = "${cfgString(JSON_DOC)}";`,
  ];
  CASES.forEach(([v, e], i) => lines.push(`  $var(v) = "${cfgString(v)}";`, `  xlog("L_ERR", "T|${i}|${cfgString(e)}|END\\n");`));
  FUNCTIONS.forEach(([call], i) => lines.push(`  ${call};`, `  xlog("L_ERR", "J|${i}|$var(o)|END\\n");`));
  lines.push('  sl_send_reply("200", "OK");', "}");
  return lines.join("\n");
}

function request(port: number, local: number): string {
  return (
    `OPTIONS sip:bob@127.0.0.1:${port} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKcmp1, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx\r\n` +
    "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2\r\nMax-Forwards: 70\r\n" +
    'From: "Alice A." <sip:alice@a.example>;tag=f1\r\nTo: Bob <sip:bob@b.example>\r\nCall-ID: pv-cmp-1\r\nCSeq: 1 OPTIONS\r\n' +
    "X-A: 42\r\nX-A: 43\r\nP-Asserted-Identity: <sip:+1555@pai.example>\r\nDiversion: <tel:+1666>;reason=busy\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nv=0\n"
  );
}

test("Kamailio 5.6 and evsip expand the same pseudo-variables and transformations to the same text", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-pv-cmp-"));
  const port = await freePort();
  const sock = createSocket("udp4");
  try {
    writeFileSync(join(dir, "pv.cfg"), cfg());
    const k = await startKamailio(join(dir, "pv.cfg"), port);
    try {
      sock.bind(0, "127.0.0.1");
      await once(sock, "listening");
      const text = request(port, sock.address().port);
      const answered = once(sock, "message");
      sock.send(text, port, "127.0.0.1");
      assert.match(String((await answered)[0]), /^SIP\/2\.0 200/);
      const kam = new Map<string, string>();
      // xlog lines reach stderr in the order the route ran; the 200 went out after the last one.
      for (const m of k.log().matchAll(/<script>: ([TJ]\|\d+)\|(.*)\|END/g)) kam.set(m[1] as string, m[2] as string);
      const c = routeContext(text);
      c.setPv("$avp(aa)", "first");
      c.setPv("$avp(aa)", 2);
      c.setPv("$avp(aa)", "third");
      CASES.forEach(([v, e], i) => {
        c.setPv("$var(v)", v);
        assert.equal(c.fmt(e), kam.get(`T|${i}`), `${e} on ${JSON.stringify(v)}`);
      });
      FUNCTIONS.forEach(([call, run], i) => {
        run(c);
        assert.equal(c.fmt("$var(o)"), kam.get(`J|${i}`), call);
      });
    } finally {
      await k.stop();
    }
  } finally {
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
