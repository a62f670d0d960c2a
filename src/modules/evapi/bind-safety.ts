// The safe default of the event socket (README.md "Exposure"): its events carry every call's data
// and its messages can resume or reject suspended calls, so binding it where others can reach it
// needs a way to tell who connects. Checked once at load, with the other cross-param checks.
import { isIP } from "node:net";

/** True for an address only this host can reach: 127.0.0.0/8, ::1 (also IPv4-mapped), "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "localhost." || h === "::1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/**
 * The load-time refusal of an unguarded `bindAddr` on another address than loopback. Guarded means
 * a client must prove who it is: a token, or (with `tls`) a client certificate the router verifies.
 * TLS without client certificates hides the traffic but lets anyone connect and read every event,
 * so it is not enough on its own.
 */
export function exposureProblem(bindAddr: string): string {
  return (
    `${JSON.stringify(bindAddr)} is reachable from other hosts, where any client would get every call's data ` +
    `and could resume or reject suspended calls: set tokens (or tls with verifyClient: true), ` +
    `bind to 127.0.0.1, or set insecure: true to accept the risk`
  );
}
