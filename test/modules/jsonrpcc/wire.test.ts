// Pure pieces of jsonrpcc: the servers grammar, json-c style lenient params, result text, response
// classification (never throwing on arbitrary bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  classifyResponse,
  encodeRequest,
  parseLenientJson,
  parseServers,
  resultText,
  resultVarSpec,
} from "../../../src/modules/jsonrpcc/index.js";

test("servers: accepted forms", () => {
  const r = parseServers("  a.example:1,1   [::1]:9999,3 10.0.0.1:65535,-2 ");
  assert.ok(r.ok);
  assert.deepEqual(r.servers, [
    { host: "a.example", port: 1, priority: 1 },
    { host: "::1", port: 9999, priority: 3 },
    { host: "10.0.0.1", port: 65535, priority: -2 },
  ]);
});

test("servers: rejected forms name the entry", () => {
  for (const bad of ["", "host:99", "host,1", "host:0,1", "host:70000,1", "host:1,0", "-bad:1,1", "[nov6]:1,1", "h:1,x"]) {
    const r = parseServers(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.equal(r.code, "ERR_JSONRPC_BAD_SERVERS");
  }
});

test("lenient params like json-c: single quotes, trailing garbage, comments; unparsable → null", () => {
  assert.deepEqual(parseLenientJson("{'id': 1234, 'name': 'Petros'}"), { id: 1234, name: "Petros" });
  assert.deepEqual(parseLenientJson("{'id': 1234}"), { id: 1234 });
  assert.deepEqual(parseLenientJson('[1, "a\\/b", true, null] trailing'), [1, "a/b", true, null]);
  assert.deepEqual(parseLenientJson("/* c */ {'a': {'b': [ ]}}"), { a: { b: [] } });
  assert.equal(parseLenientJson("42abc"), 42);
  assert.equal(parseLenientJson("'it\\'s'"), "it's");
  for (const bad of ["", "   ", "hello", "{'a': }", "{a: 1}", "[1, 2", "'open"]) assert.equal(parseLenientJson(bad), null, bad);
  assert.equal(parseLenientJson("[".repeat(100) + "'x'" + "]".repeat(100)), null, "depth bounded");
});

test("lenient parser is total and agrees with JSON.parse on JSON", () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      parseLenientJson(s);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      const text = JSON.stringify(v);
      assert.deepEqual(parseLenientJson(text), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
});

test("result text follows json_object_get_string", () => {
  assert.equal(resultText("gw1"), "gw1");
  assert.equal(resultText(12.5), "12.5");
  assert.equal(resultText(true), "true");
  assert.equal(resultText(null), "null");
  assert.equal(resultText({ a: [1, 2], b: "x/y" }), '{"a":[1,2],"b":"x/y"}');
  assert.equal(resultText([1]), "[1]");
});

test("resultVar spellings", () => {
  assert.equal(resultVarSpec("$var(result)"), "$var(result)");
  assert.equal(resultVarSpec("$shv(r)"), "$shv(r)");
  assert.equal(resultVarSpec("result"), "$var(result)");
});

test("request frame: netstring around the Kamailio key order", () => {
  assert.equal(
    encodeRequest(2, "start", { sdp: "aa", id: 1000 }).toString(),
    '73:{"id":2,"jsonrpc":"2.0","method":"start","params":{"sdp":"aa","id":1000}},',
  );
});

test("classifyResponse: result null is success, error wins, string ids, garbage never throws", () => {
  const c = (s: string) => classifyResponse(Buffer.from(s));
  assert.deepEqual(c('{"jsonrpc":"2.0","id":3,"result":null}'), { kind: "result", id: 3, value: null });
  assert.deepEqual(c('{"id":"7","error":{"code":1}}'), { kind: "error", id: 7, error: { code: 1 } });
  assert.deepEqual(c('{"id":7,"error":null,"result":1}'), { kind: "result", id: 7, value: 1 });
  assert.equal(c('{"id":7}').kind, "bad");
  assert.equal(c("[]").kind, "bad");
  assert.equal(c('{"result":1}').kind, "bad");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      classifyResponse(Buffer.from(b));
    }),
    { numRuns: 300 },
  );
});
