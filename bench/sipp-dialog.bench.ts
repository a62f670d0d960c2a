// Macro bench: what dialog tracking costs per call. SIPp UAC (built-in `uac`: INVITE, 180, 200,
// ACK, BYE, 200) → evsip → SIPp UAS (built-in `uas`), evsip relaying statefully with record-route
// (bench/sipp-relay.bench.ts's app): as is ("plain"), with ctx.dialog.manage() on every INVITE
// ("dialog"), and with a profile and a $dlg_var as well, as a billing or call-limit script would
// ("dialog+profile+var"). The variants alternate over several rounds so drift on a shared machine
// hits them all; the target (issue 11) is at most 15% more CPU per call with dialog tracking.
import { pino } from "pino";
import { defineApp, type AnyAppDefinition } from "../src/app.js";
import { Server } from "../src/server.js";
import { hasSipp, startSipp } from "../test/support/sipp.js";
import type { BenchCase, MacroRow } from "./types.js";
import { ownCpuSeconds, phaseRows, runPhase, type Phase } from "./support/sipp-macro.js";
import { quantile, type SippRunStats } from "./support/sipp-stats.js";

export const benches: BenchCase[] = [];

const ROUNDS = 4;

type Variant = "plain" | "dialog" | "dialog+profile+var";
const VARIANTS: readonly Variant[] = ["plain", "dialog", "dialog+profile+var"];
const PHASES: readonly Phase[] = [
  { label: "fixed 500 calls/s", rate: 500, calls: 2500, timeoutSec: 30 },
  { label: "closed loop -l 50", rate: 100_000, calls: 10_000, limit: 50, timeoutSec: 30 },
];

/** The relay app, with or without dialog tracking (and a profile and a $dlg_var with it). */
export function dialogRelayApp(uas: string, variant: Variant): AnyAppDefinition {
  const dialogs = variant !== "plain";
  const extra = variant === "dialog+profile+var";
  return defineApp({
    modules: dialogs ? { dialog: { profilesNoValue: "calls" } } : {},
    request(ctx) {
      if (!ctx.maxfwd.process(10)) {
        ctx.sl.sendReply(483, "Too Many Hops");
        return;
      }
      if (ctx.isMethod("INVITE")) {
        if (dialogs && !ctx.hasToTag()) {
          ctx.dialog?.manage();
          if (extra) {
            ctx.dialog?.setProfile("calls");
            ctx.setPv("$dlg_var(account)", ctx.pv("$fU"));
          }
        }
        ctx.rr.recordRoute();
      }
      if (ctx.isMethod("ACK")) {
        ctx.forward(uas);
        return;
      }
      ctx.tm.relay(uas);
    },
  });
}

async function runVariant(uasPort: number, variant: Variant, phase: Phase): Promise<SippRunStats> {
  const server = new Server(dialogRelayApp(`sip:127.0.0.1:${uasPort}`, variant), {
    listen: ["udp:127.0.0.1:0"],
    logger: pino({ level: "silent" }),
  });
  await server.start();
  try {
    return await runPhase("uac", server.listeners()[0]?.port ?? 0, phase, ownCpuSeconds);
  } finally {
    await server.stop();
  }
}

/** Nearest rank, as every percentile of the benches (the lower middle of an even count). */
function median(xs: number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

/** CPU per call without and with dialogs, per phase, alternating; the median ratio. */
export async function macro(): Promise<MacroRow[]> {
  const bench = "sipp dialog";
  if (!hasSipp()) return [{ name: bench, metric: "skipped", value: 0, unit: "", note: "sipp is not installed" }];
  const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 1_000_000, timeoutSec: 600 });
  await uas.ready;
  const rows: MacroRow[] = [];
  try {
    for (const p of PHASES) {
      const cpu = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of VARIANTS) {
          const s = await runVariant(uas.port, variant, p);
          cpu.get(variant)?.push(s.cpuUsPerCall ?? Number.NaN);
          rows.push(...phaseRows(bench, `${variant} round ${round + 1}`, p, s, "calls"));
        }
      }
      const plain = median(cpu.get("plain") ?? []);
      for (const variant of VARIANTS.slice(1)) {
        const v = median(cpu.get(variant) ?? []);
        rows.push({
          name: `${bench} ${variant}/plain ${p.label}`,
          metric: "CPU per call ratio (medians)",
          value: v / plain,
          unit: "×",
          note: `median ${v.toFixed(1)} vs ${plain.toFixed(1)} µs over ${ROUNDS} rounds; target ≤ 1.15`,
        });
      }
    }
  } finally {
    await uas.stop();
  }
  return rows;
}
