// The client side of RFC 7339 on its own clock: which feedback in our Via of a response counts
// (a reduction with the loss algorithm, a validity that defaults to 500 ms, an oc-seq that only
// moves forward), how long it holds, that `oc-validity=0` ends it, that the share held back is what
// was asked, per server, and that hostile parameters are ignored rather than thrown on.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DownstreamOverload, MAX_DOWNSTREAM_VALIDITY_MS, mayHoldBack, parsePeers } from "../../src/tm/downstream-overload.js";
import { TM_SCHEMA } from "../../src/tu/tm-params.js";
import { parseVia } from "../../src/sip/via.js";
import { parseOk } from "../support/sip-text.js";
import type { SipMessageLike, Via } from "../../src/sip/types.js";
import type { TmDestination } from "../../src/tm/types.js";

const A: TmDestination = { proto: "udp", addr: "192.0.2.10", port: 5060 };
const B: TmDestination = { proto: "udp", addr: "192.0.2.11", port: 5060 };

function via(params: string): Via {
  const v = parseVia(`SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1${params}`);
  assert.ok(v, params);
  return v;
}

function request(ruri: string, extra: string[] = [], toTag = ""): SipMessageLike {
  const text = [
    `INVITE ${ruri} SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx",
    "From: <sip:a@192.0.2.9>;tag=1",
    `To: <sip:b@192.0.2.10>${toTag}`,
    "Call-ID: c1",
    "CSeq: 1 INVITE",
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  return parseOk(text);
}

const NEW = request("sip:b@192.0.2.10");

/** A uniform draw from a small LCG: the same sequence in every run. */
function lcg(seed = 1): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function setup(): { d: DownstreamOverload; clock: { now: number }; changes: [string, number][] } {
  const clock = { now: 1000 };
  const changes: [string, number][] = [];
  const d = new DownstreamOverload({ clock: () => clock.now, random: lcg(), onChange: (s, p) => changes.push([s, p]) });
  return { d, clock, changes };
}

test("a reduction in our Via holds for its oc-validity (500 ms when absent), for that server only", () => {
  const { d, clock, changes } = setup();
  d.note(A, via(';oc=40;oc-algo="loss";oc-validity=2000;oc-seq=100.1'));
  assert.equal(d.percentFor(A), 40);
  assert.equal(d.percentFor(B), 0, "another server is not held back");
  assert.equal(d.reducing, 1);
  clock.now += 1999;
  assert.equal(d.percentFor(A), 40);
  clock.now += 1;
  assert.equal(d.percentFor(A), 0, "gone once its validity ran out");
  assert.equal(d.reducing, 0);
  d.note(B, via(";oc=10;oc-seq=7"));
  assert.equal(d.percentFor(B), 10, "no oc-algo: loss, every client's");
  clock.now += 499;
  assert.equal(d.percentFor(B), 10);
  clock.now += 1;
  assert.equal(d.percentFor(B), 0, "oc-validity absent: 500 ms");
  assert.deepEqual(changes, [
    ["192.0.2.10:5060", 40],
    ["192.0.2.10:5060", 0],
    ["192.0.2.11:5060", 10],
    ["192.0.2.11:5060", 0],
  ]);
});

test("oc-seq: an older one is stale, the same one is the feedback repeated, a newer one replaces", () => {
  const { d, clock } = setup();
  d.note(A, via(";oc=50;oc-validity=1000;oc-seq=200.5"));
  d.note(A, via(";oc=90;oc-validity=1000;oc-seq=200.4"));
  assert.equal(d.percentFor(A), 50, "an older seq is ignored");
  clock.now += 800;
  d.note(A, via(";oc=50;oc-validity=1000;oc-seq=200.5"));
  clock.now += 800;
  assert.equal(d.percentFor(A), 50, "the same seq repeated keeps it in force");
  d.note(A, via(";oc=20;oc-validity=1000;oc-seq=201"));
  assert.equal(d.percentFor(A), 20, "a newer seq replaces it");
});

test("a stop older than the feedback in force does not end it; oc=0 from a server that asked nothing is not kept", () => {
  const { d, changes } = setup();
  d.note(B, via(";oc=0;oc-validity=5000;oc-seq=9"));
  d.note(B, via(";oc=30;oc-validity=5000;oc-seq=1"));
  assert.equal(d.percentFor(B), 30, "no oc=0 entry was kept to make seq 1 look stale");
  d.note(A, via(";oc=60;oc-validity=5000;oc-seq=10"));
  d.note(A, via(";oc=60;oc-validity=0;oc-seq=9"));
  assert.equal(d.percentFor(A), 60, "a reordered older stop is ignored");
  assert.equal(d.reducing, 2);
  d.note(A, via(";oc=60;oc-validity=0;oc-seq=11"));
  assert.equal(d.reducing, 1);
  d.note(A, via(";oc=60;oc-validity=5000;oc-seq=10.5"));
  assert.equal(d.percentFor(A), 0, "a response older than the stop starts nothing");
  assert.deepEqual(changes, [
    ["192.0.2.11:5060", 30],
    ["192.0.2.10:5060", 60],
    ["192.0.2.10:5060", 0],
  ]);
});

test("only new work is held back: not within a dialog, not an emergency call; Resource-Priority does not escape it", () => {
  assert.equal(mayHoldBack(NEW), true);
  assert.equal(mayHoldBack(request("sip:b@192.0.2.10", [], ";tag=x")), false);
  assert.equal(mayHoldBack(request("urn:service:sos")), false);
  assert.equal(mayHoldBack(request("URN:Service:SOS.police")), false);
  assert.equal(mayHoldBack(request("urn:service:sosx")), true, "not a sub-service of sos");
  assert.equal(mayHoldBack(request("urn:service:counseling")), true, "a service URN, not an emergency one");
  assert.equal(mayHoldBack(request("sip:b@192.0.2.10", ["Resource-Priority: wps.0"])), true, "any caller could add it");
  const { d } = setup();
  d.note(A, via(";oc=100;oc-validity=60000;oc-seq=1"));
  assert.equal(d.holdsBack(A, NEW), true);
  assert.equal(d.holdsBack(A, request("urn:service:sos")), false);
});

test("oc-validity=0 ends a reduction at once; oc=0 ends it for its validity", () => {
  const { d, changes } = setup();
  d.note(A, via(";oc=60;oc-validity=5000;oc-seq=1"));
  d.note(A, via(";oc=60;oc-validity=0;oc-seq=2"));
  assert.equal(d.percentFor(A), 0);
  d.note(A, via(";oc=60;oc-validity=5000;oc-seq=3"));
  d.note(A, via(";oc=0;oc-validity=5000;oc-seq=4"));
  assert.equal(d.percentFor(A), 0);
  assert.equal(d.holdsBack(A, NEW), false);
  assert.deepEqual(
    changes.map(([, p]) => p),
    [60, 0, 60, 0],
  );
});

test("what is not feedback evsip understands is ignored: our own valueless oc, another algorithm, bad numbers", () => {
  const { d } = setup();
  for (const p of [
    ';oc;oc-algo="loss"',
    ';oc=30;oc-algo="rate";oc-seq=1',
    ";oc=30;oc-algo;oc-seq=1",
    ";oc=101;oc-seq=1",
    ";oc=-1;oc-seq=1",
    ";oc=3x;oc-seq=1",
    ";oc=30;oc-seq=x",
    ";oc=30",
    ";oc=30;oc-validity=abc;oc-seq=1",
    ";oc-validity=500;oc-seq=1",
  ]) {
    d.note(A, via(p));
    assert.equal(d.percentFor(A), 0, p);
  }
  d.note(A, via(';oc=30;oc-algo="LOSS";oc-seq=1'));
  assert.equal(d.percentFor(A), 30, "the algorithm's name in any case");
});

test("a validity past the bound is held for the bound, not for what the server said", () => {
  const { d, clock } = setup();
  d.note(A, via(";oc=30;oc-validity=999999999999;oc-seq=1"));
  clock.now += MAX_DOWNSTREAM_VALIDITY_MS - 1;
  assert.equal(d.percentFor(A), 30);
  clock.now += 1;
  assert.equal(d.percentFor(A), 0);
});

test("the share held back is the share asked: all, none, and 30 % of 20,000 draws", () => {
  const { d } = setup();
  d.note(A, via(";oc=100;oc-validity=60000;oc-seq=1"));
  for (let i = 0; i < 1000; i++) assert.equal(d.holdsBack(A, NEW), true);
  assert.equal(d.holdsBack(B, NEW), false);
  d.note(A, via(";oc=30;oc-validity=60000;oc-seq=2"));
  let held = 0;
  for (let i = 0; i < 20_000; i++) if (d.holdsBack(A, NEW)) held++;
  assert.ok(held > 5700 && held < 6300, `${held} of 20000 held back at 30 %`);
});

test("property: any parameters in our Via leave a share within 0..100 and never throw", () => {
  const paramName = fc.constantFrom("oc", "oc-algo", "oc-validity", "oc-seq", "OC", "x");
  const value = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 14 }), fc.nat().map(String), fc.double().map(String));
  const tokenish = (s: string): string => s.replace(/[^A-Za-z0-9.\-"!%*_+`'~]/g, "");
  fc.assert(
    fc.property(fc.array(fc.tuple(paramName, value), { maxLength: 6 }), (params) => {
      const { d } = setup();
      const text = params.map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${tokenish(v)}`)).join("");
      const v = parseVia(`SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1${text}`);
      if (v === undefined) return;
      d.note(A, v);
      const p = d.percentFor(A);
      assert.ok(p >= 0 && p <= 100);
      d.holdsBack(A, NEW);
    }),
    { numRuns: 2000 },
  );
});

test("overloadControlPeers: only the next hops named get oc and have their feedback read", () => {
  const p = parsePeers(["192.0.2.10", "192.0.2.11:5070", "[2001:DB8:0:0::1]:5070", "[2001:db8::2]", "[::ffff:192.0.2.12]"]);
  assert.ok(p.ok);
  assert.deepEqual([...p.peers], ["192.0.2.10", "192.0.2.11:5070", "[2001:db8::1]:5070", "2001:db8::2", "192.0.2.12"]);
  for (const bad of ["sbc.example", "192.0.2.1:0", "2001:db8::1", "192.0.2.1:x"]) assert.equal(parsePeers([bad]).ok, false, bad);
  assert.match(TM_SCHEMA.overloadControlPeers.check(["sbc.example"]) ?? "", /not an IP address/);
  assert.equal(TM_SCHEMA.overloadControlPeers.check(["192.0.2.10:5070"]), undefined);
  const d = new DownstreamOverload({ clock: () => 0, random: lcg(), peers: p.peers });
  const other: TmDestination = { proto: "udp", addr: "192.0.2.11", port: 5060 };
  assert.equal(d.appliesTo(A), true, "an address named without a port: any port");
  assert.equal(d.appliesTo({ proto: "udp", addr: "192.0.2.11", port: 5070 }), true);
  assert.equal(d.appliesTo(other), false, "the same address on another port is another next hop");
  assert.equal(d.appliesTo({ proto: "udp", addr: "2001:db8:0::1", port: 5070 }), true, "IPv6 however it is spelled");
  assert.equal(d.appliesTo({ proto: "udp", addr: "2001:db8::1", port: 5071 }), false);
  assert.equal(d.appliesTo({ proto: "udp", addr: "2001:DB8::2", port: 5060 }), true);
  assert.equal(
    d.appliesTo({ proto: "udp", addr: "::ffff:192.0.2.10", port: 5060 }),
    true,
    "an IPv4-mapped address is the IPv4 one",
  );
  d.note(other, via(";oc=100;oc-validity=60000;oc-seq=1"));
  assert.equal(d.percentFor(other), 0, "feedback from a next hop not named is ignored");
  assert.equal(d.holdsBack(other, NEW), false);
  d.note(A, via(";oc=100;oc-validity=60000;oc-seq=1"));
  assert.equal(d.holdsBack(A, NEW), true);
});
