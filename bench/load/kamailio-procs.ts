// Which of Kamailio's processes handle calls: `kamcmd core.psx` over the bench configs' ctl socket
// lists every process with what it does. The UDP receivers, the EvAPI dispatcher and worker and
// the JSON-RPC I/O handler do a call's work; the attendant, the timers and the ctl handler do not.
// bench/tail-causes.ts counts only the former as "the router", as it counts evsip's event loop.
import { execFileSync } from "node:child_process";
import { KAMCMD_BIN } from "./kamailio-shm.js";

const CALL_WORK = /^(udp receiver|tcp receiver|EvAPI|jsonrpc)/i;

/** core.psx's answer ("PID: 19555" then "DSC: udp receiver child=0 …" per process) as pid → description. */
export function parsePsx(text: string): Map<number, string> {
  const out = new Map<number, string>();
  let pid: number | undefined;
  for (const line of text.split("\n")) {
    const p = /^\s*PID:\s*(\d+)/.exec(line);
    if (p !== null) pid = Number(p[1]);
    const d = /^\s*DSC:\s*(.*?)\s*$/.exec(line);
    if (d !== null && pid !== undefined) out.set(pid, d[1] ?? "");
  }
  return out;
}

/** The pids of the processes among `procs` that do a call's work. */
export function callWorkers(procs: ReadonlyMap<number, string>): number[] {
  return [...procs].filter(([, dsc]) => CALL_WORK.test(dsc)).map(([pid]) => pid);
}

/** Asks the Kamailio on ctl socket `sock` (a path) for its call-handling pids; undefined when it does not answer. */
export function readCallWorkers(sock: string): number[] | undefined {
  try {
    const out = execFileSync(KAMCMD_BIN, ["-s", `unix:${sock}`, "core.psx"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pids = callWorkers(parsePsx(out));
    return pids.length > 0 ? pids : undefined;
  } catch {
    return undefined;
  }
}
