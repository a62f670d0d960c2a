// Kamailio's own account of its shared memory (where transactions live): `kamcmd core.shmmem` over
// the ctl socket that bench/kamailio/*.cfg open when started with -A 'CTL_SOCK="unix:<path>"'.
import { execFileSync } from "node:child_process";

export const KAMCMD_BIN = process.env.KAMCMD ?? "/usr/sbin/kamcmd";

/** Shared memory in use now and the peak since start, kB. */
export interface ShmUse {
  readonly realUsedKb: number;
  readonly maxUsedKb: number;
}

/** Parses kamcmd's core.shmmem answer ("real_used: 572816", "max_used: …", in bytes). */
export function parseShmmem(text: string): ShmUse | undefined {
  const field = (name: string): number => Number(new RegExp(`\\b${name}:\\s*(\\d+)`).exec(text)?.[1] ?? Number.NaN);
  const realUsed = field("real_used");
  const maxUsed = field("max_used");
  if (Number.isNaN(realUsed) || Number.isNaN(maxUsed)) return undefined;
  return { realUsedKb: realUsed / 1024, maxUsedKb: maxUsed / 1024 };
}

/** Asks the Kamailio listening on ctl socket `sock` (a path); undefined when it does not answer. */
export function readShm(sock: string): ShmUse | undefined {
  try {
    const out = execFileSync(KAMCMD_BIN, ["-s", `unix:${sock}`, "core.shmmem"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    return parseShmmem(out);
  } catch {
    return undefined;
  }
}
