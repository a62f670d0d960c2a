// A cfg-loaded request route (src/cfg) against the same logic written by hand in TypeScript, on one
// route context and one parsed INVITE: maxfwd, has_totag, is_method, a regex on $rU, $var
// arithmetic, a string with pseudo-variables inside, and a jansson_get. No I/O, so this is the cost
// of the translated closures next to hand-written calls on the same ctx API.
import type { BenchCase } from "./types.js";
import { loadCfgText } from "../src/cfg/load-cfg.js";
import { defineApp } from "../src/app.js";
import { routeContext } from "../test/support/route-context.js";
import type { RequestContext } from "../src/route-contexts.js";

const CFG = `
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "jansson.so"
request_route {
  if (!mf_process_maxfwd_header("10")) return;
  if (has_totag()) return;
  if (is_method("INVITE") && $rU =~ "^\\+44") {
    $var(gw) = "uk";
  } else {
    $var(gw) = "other";
  }
  $var(n) = $var(n) + 1;
  $var(data) = "{\\"from\\":\\"$fU\\",\\"to\\":\\"$rU\\",\\"gw\\":\\"$var(gw)\\"}";
  jansson_get("to", "$var(data)", "$var(to)");
}
`;

const UK = /^\+44/i;

/** The same route, as a TypeScript app would write it. */
const handWritten = defineApp({
  request(ctx) {
    if (!ctx.maxfwd.process(10)) return;
    if (ctx.hasToTag()) return;
    ctx.setPv("$var(gw)", ctx.isMethod("INVITE") && UK.test(String(ctx.pv("$rU") ?? "")) ? "uk" : "other");
    ctx.setPv("$var(n)", Number(ctx.pv("$var(n)") ?? 0) + 1);
    ctx.setPv("$var(data)", ctx.fmt('{"from":"$fU","to":"$rU","gw":"$var(gw)"}'));
    ctx.jansson.get("to", String(ctx.pv("$var(data)")), "$var(to)");
  },
});

const fromCfg = loadCfgText(CFG, "bench.cfg").app;
const ctx = routeContext() as unknown as RequestContext;

export const benches: BenchCase[] = [
  { name: "request route from a Kamailio cfg (src/cfg closures)", fn: () => void fromCfg.request?.(ctx) },
  { name: "request route hand-written in TypeScript (same logic)", fn: () => void handWritten.request?.(ctx) },
];
