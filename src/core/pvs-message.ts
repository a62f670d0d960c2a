// Message, network and environment pseudo-variables of Kamailio's pv module beyond the basic ones
// in core-pvs.ts, and the Kamailio names evsip refuses because they have no meaning here (each
// with the reason, thrown as ERR_PV_UNSUPPORTED).
import { parseNameAddr, parseUri } from "../sip/index.js";
import type { RouteContext } from "./context.js";
import type { PvClass, PvRegistry, PvValue } from "./pv-registry.js";

/** The URI of the first value of a name-addr header (P-Asserted-Identity, Diversion), or null. */
function headerUri(c: RouteContext, name: string): PvValue {
  const v = c.msg.headerValues(name)[0];
  return v === undefined ? null : (parseNameAddr(v)?.uri.raw ?? null);
}

const needsName: Pick<PvClass<RouteContext>, "checkArg"> = { checkArg: (n) => (n ? undefined : "needs a name") };

/** Kamailio names with no meaning in evsip, and why. */
const REFUSED: ReadonlyArray<[string, string]> = [
  ["snd", "evsip has no onsend_route; the destination of a relay is $du, else the Request-URI"],
  ["sndto", "evsip has no onsend_route; the destination of a relay is $du, else the Request-URI"],
  ["sndfrom", "evsip has no onsend_route"],
  ["ruid", "evsip has no usrloc/registrar: there is no location record"],
  ["ulc", "evsip has no usrloc/registrar"],
  ["bs", "evsip has no branch set (parallel forking is not implemented)"],
  ["br", "evsip has no branch set (parallel forking is not implemented)"],
  ["bR", "evsip has no branch set (parallel forking is not implemented)"],
  ["sel", "evsip has no select framework: read headers with $hdr and transformations"],
  ["cfg", "evsip has no cfg framework: the app's own constants are TypeScript"],
  ["stat", "evsip exposes its counters as Prometheus metrics, not to the script"],
];

export function registerMessagePvs(reg: PvRegistry<RouteContext>): void {
  const ro: ReadonlyArray<[string, (c: RouteContext, arg: string | undefined) => PvValue]> = [
    ["cT", (c) => c.msg.header("Content-Type") ?? null],
    ["cl", (c) => (c.msg.hasHeader("Content-Length") ? c.msg.contentLength : null)],
    ["ai", (c) => headerUri(c, "P-Asserted-Identity")],
    ["di", (c) => headerUri(c, "Diversion")],
    ["rz", (c) => parseUri(c.ruri)?.scheme ?? null],
    // Listen sockets have no names in evsip, as a Kamailio listen without name=: null.
    ["Rn", () => null],
    // No advertised address in evsip: Kamailio then gives the receiving address.
    ["RAi", (c) => c.src.localAddr],
  ];
  for (const [name, get] of ro) reg.register(name, { get });
  reg.register("env", { get: (_c, name) => (name ? (process.env[name] ?? null) : null), ...needsName });
  for (const [name, reason] of REFUSED) reg.refuse(name, reason);
}
