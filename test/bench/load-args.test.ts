// The load tool's command line (bench/load/args.ts): defaults, steps, the cold flag, and refusals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLoadArgs, stepRates } from "../../bench/load/args.js";

test("defaults: async at 2000/s for 10 s against both routers, warm, Kamailio -n 4", () => {
  const a = parseLoadArgs([]);
  assert.equal(a.scenario, "async");
  assert.deepEqual(a.segments, [{ rate: 2000, seconds: 10 }]);
  assert.deepEqual(a.routers, ["evsip", "kamailio"]);
  assert.equal(a.pacer, "thread");
  assert.equal(parseLoadArgs(["--pacer", "timer"]).pacer, "timer");
  assert.equal(a.warmup, 3);
  assert.equal(a.warmupRate, 2000);
  assert.equal(parseLoadArgs(["--rate", "500"]).warmupRate, 500);
  assert.equal(parseLoadArgs(["--rate", "5000"]).warmupRate, 2000);
  assert.equal(parseLoadArgs(["--rate", "5000", "--warmup-rate", "5000"]).warmupRate, 5000);
  assert.equal(a.children, 4);
  assert.equal(a.append, true);
  assert.equal(a.repeat, 1);
  assert.equal(parseLoadArgs(["--repeat", "4"]).repeat, 4);
});

test("--cold means no warm-up; --steps gives one segment per rate", () => {
  const a = parseLoadArgs([
    "--scenario",
    "proxy",
    "--steps",
    "1000:4000:1000",
    "--step-duration",
    "8",
    "--cold",
    "--target",
    "kamailio",
  ]);
  assert.equal(a.warmup, 0);
  assert.equal(a.steps, true);
  assert.deepEqual(a.routers, ["kamailio"]);
  assert.deepEqual(
    a.segments.map((s) => [s.rate, s.seconds]),
    [
      [1000, 8],
      [2000, 8],
      [3000, 8],
      [4000, 8],
    ],
  );
  assert.deepEqual(stepRates("500:500:100"), [500]);
});

test("unknown options, bad values and steps with SIPp are refused", () => {
  assert.throws(() => parseLoadArgs(["--rat", "10"]), /unknown option --rat/);
  assert.throws(() => parseLoadArgs(["--scenario", "nope"]), /--scenario/);
  assert.throws(() => parseLoadArgs(["--pacer", "ticks"]), /--pacer is one of thread, timer/);
  assert.throws(() => parseLoadArgs(["--spin"]), /unknown option --spin|unexpected/);
  assert.throws(() => parseLoadArgs(["--rate", "-1"]), /--rate/);
  assert.throws(() => parseLoadArgs(["--steps", "8000:1000:1000"]), /--steps/);
  assert.throws(() => parseLoadArgs(["--steps", "1000:2000:1000", "--driver", "sipp"]), /--steps runs with the tool only/);
  assert.throws(() => parseLoadArgs(["--driver", "sipp", "--sipp-transport", "tn"]), /--sipp-transport is u1 or t1/);
  assert.throws(() => parseLoadArgs(["--sipp-transport", "t1"]), /runs with SIPp/);
});

test("SIPp over TCP: --sipp-transport t1 with --driver sipp; UDP by default", () => {
  assert.equal(parseLoadArgs(["--driver", "sipp"]).sippTransport, "u1");
  assert.equal(parseLoadArgs(["--driver", "sipp", "--sipp-transport", "t1"]).sippTransport, "t1");
});

test("--edge: oc or plain, for the proxy scenario", () => {
  assert.equal(parseLoadArgs(["--scenario", "proxy"]).edge, undefined);
  assert.equal(parseLoadArgs(["--scenario", "proxy", "--edge", "oc"]).edge, "oc");
  assert.equal(parseLoadArgs(["--scenario", "proxy", "--edge", "plain"]).edge, "plain");
  assert.throws(() => parseLoadArgs(["--scenario", "proxy", "--edge", "yes"]), /--edge is oc or plain/);
  assert.throws(() => parseLoadArgs(["--scenario", "async", "--edge", "oc"]), /proxy scenario/);
  assert.equal(parseLoadArgs(["--scenario", "proxy", "--edge", "oc", "--driver", "sipp"]).edge, "oc");
});
