// EVAPI.md "Wire" over real sockets: every client → server case sent as one chunk and byte by byte
// (one write per byte), server → client framing, protocol errors closing the client with a counted
// code and connection-closed, raw mode (one message per read) and rawDelimiter (NDJSON).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";

type Chunking = "one chunk" | "byte by byte";
const CHUNKINGS: Chunking[] = ["one chunk", "byte by byte"];

async function sendAs(c: TestClient, bytes: Buffer, how: Chunking): Promise<void> {
  if (how === "one chunk") {
    c.send(bytes);
    return;
  }
  c.socket.setNoDelay(true);
  for (let i = 0; i < bytes.length; i++) {
    await new Promise<void>((resolve, reject) => c.socket.write(bytes.subarray(i, i + 1), (e) => (e ? reject(e) : resolve())));
  }
}

const GOOD: Array<[string, string, string[], number]> = [
  ["one frame", "5:hello,", ["hello"], 0],
  ["whitespace before frames", " \t\r\n5:hello,\n 2:ok,", ["hello", "ok"], 0],
  ["leading zeros", "005:hello,", ["hello"], 0],
  ["empty frame ignored and counted", "0:,2:ok,", ["ok"], 1],
  ["several frames in one read, in order", "1:a,2:bb,3:ccc,", ["a", "bb", "ccc"], 0],
  ["UTF-8 payload, length in bytes", "4:\u00e9\u00e9,", ["\u00e9\u00e9"], 0],
  ["payload holding digits, colons and commas", "7:1:a,2:b,", ["1:a,2:b"], 0],
];

for (const how of CHUNKINGS) {
  for (const [name, wire, expected, empties] of GOOD) {
    test(`wire in (${how}): ${name}`, async () => {
      const got = new Collector<string>();
      const h = await startEvapi({}, { "evapi:message-received": (ctx) => got.push(ctx.evapi.msg) });
      try {
        const c = await TestClient.open(h.port);
        await sendAs(c, Buffer.from(wire, "utf8"), how);
        assert.deepEqual(await got.wait(expected.length), expected);
        // A later frame proves nothing else was delivered in between.
        c.send("3:end,");
        assert.deepEqual((await got.wait(expected.length + 1)).slice(expected.length), ["end"]);
        assert.equal(h.mod.service.stats.emptyMessages, empties);
        c.destroy();
      } finally {
        await h.stop();
      }
    });
  }
}

const BAD: Array<[string, string, string]> = [
  ["a letter where a length is due", "x5:hello,", "ERR_NETSTRING_BAD_LENGTH"],
  ["a sign before the length", "-5:hello,", "ERR_NETSTRING_BAD_LENGTH"],
  ["more than 9 length digits", "0000000001:a,", "ERR_NETSTRING_LENGTH_TOO_LONG"],
  ["missing colon", "5;hello,", "ERR_NETSTRING_NO_COLON"],
  ["missing comma", "5:hello;", "ERR_NETSTRING_NO_COMMA"],
  ["payload over maxMessageSize", "17:aaaaaaaaaaaaaaaaa,", "ERR_NETSTRING_TOO_LARGE"],
];

for (const how of CHUNKINGS) {
  for (const [name, wire, code] of BAD) {
    test(`wire in (${how}): ${name} closes the client with ${code}`, async () => {
      const got = new Collector<string>();
      const closed = new Collector<number>();
      const h = await startEvapi(
        { maxMessageSize: 16 },
        {
          "evapi:message-received": (ctx) => got.push(ctx.evapi.msg),
          "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx),
        },
      );
      try {
        const c = await TestClient.open(h.port);
        c.send("2:ok,");
        await got.wait(1);
        await sendAs(c, Buffer.from(wire), how).catch(() => undefined);
        await c.waitClosed();
        assert.deepEqual(await closed.wait(1), [0]);
        assert.deepEqual(got.items, ["ok"]);
        assert.equal(h.mod.service.stats.errors.get(code as never), 1);
        assert.equal(h.mod.service.stats.closes.get(code), 1);
        assert.equal(c.raw.length, 0, "nothing was sent to the client");
      } finally {
        await h.stop();
      }
    });
  }
}

test("wire out: netstring frames, no leading zeros, no newline, byte lengths", async () => {
  const h = await startEvapi({});
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    const ctx = h.ctx("event");
    assert.equal(ctx.evapi.relay("hello"), 1);
    assert.equal(ctx.evapi.relay({ event: "test", data: { fU: "t" } }), 1);
    assert.equal(ctx.evapi.relay("\u00e9"), 1);
    await c.waitFrames(3);
    assert.equal(c.raw.toString("utf8"), '5:hello,34:{"event":"test","data":{"fU":"t"}},2:\u00e9,');
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("wire out: empty data is refused with ERR_EVAPI_EMPTY_DATA, empty tag with ERR_EVAPI_EMPTY_TAG", async () => {
  const h = await startEvapi({});
  try {
    const ctx = h.ctx("event");
    assert.throws(() => ctx.evapi.relay(""), { code: "ERR_EVAPI_EMPTY_DATA" });
    assert.throws(() => ctx.evapi.multicast("x", ""), { code: "ERR_EVAPI_EMPTY_TAG" });
  } finally {
    await h.stop();
  }
});

test("raw mode: bytes alone out, one message per read in", async () => {
  const got = new Collector<string>();
  const h = await startEvapi({ netstringFormat: false }, { "evapi:message-received": (ctx) => got.push(ctx.evapi.msg) });
  try {
    const c = await TestClient.open(h.port);
    c.send("hello raw");
    assert.deepEqual(await got.wait(1), ["hello raw"]);
    await h.connections.wait(1);
    assert.equal(h.ctx("event").evapi.relay("out"), 1);
    await c.until(() => c.raw.length >= 3);
    assert.equal(c.raw.toString(), "out");
    c.destroy();
  } finally {
    await h.stop();
  }
});

for (const how of CHUNKINGS) {
  test(`raw mode with rawDelimiter "\\n" (${how}): NDJSON lines, empty lines ignored`, async () => {
    const got = new Collector<string>();
    const h = await startEvapi(
      { netstringFormat: false, rawDelimiter: "\n" },
      { "evapi:message-received": (ctx) => got.push(ctx.evapi.msg) },
    );
    try {
      const c = await TestClient.open(h.port);
      await sendAs(c, Buffer.from('{"a":1}\n\n{"b":2}\n{"c"'), how);
      assert.deepEqual(await got.wait(2), ['{"a":1}', '{"b":2}']);
      c.send(":3}\n");
      assert.deepEqual((await got.wait(3))[2], '{"c":3}');
      assert.equal(h.mod.service.stats.emptyMessages, 1);
      c.destroy();
    } finally {
      await h.stop();
    }
  });
}

test("a client that disconnects mid-frame: nothing delivered, connection-closed runs, counted", async () => {
  const got = new Collector<string>();
  const closed = new Collector<string>();
  const h = await startEvapi(
    {},
    {
      "evapi:message-received": (ctx) => got.push(ctx.evapi.msg),
      "evapi:connection-closed": (ctx) => closed.push(`${ctx.evapi.srcaddr}:${ctx.evapi.srcport}`),
    },
  );
  try {
    const c = await TestClient.open(h.port);
    const local = `127.0.0.1:${c.socket.localPort}`;
    c.send("2:ok,10:hal");
    await got.wait(1);
    c.end();
    assert.deepEqual(await closed.wait(1), [local]);
    assert.deepEqual(got.items, ["ok"]);
    assert.equal(h.mod.service.stats.truncatedOnClose, 1);
    assert.equal(h.mod.service.stats.closes.get("peer"), 1);
  } finally {
    await h.stop();
  }
});
