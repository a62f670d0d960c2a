// host:port as evsip's params write it: "host:port" and "[v6]:port" (RFC 3986 §3.2.2 brackets, since
// an IPv6 address holds colons), and "host" or "[v6]" alone where the user has a default port. One
// parser for every param that names an address (listen specs, the metrics endpoint, evapi's
// bindAddr, jsonrpcc's servers); each caller adds its own param name, error code and default port.
// Hosts are kept without brackets inside evsip; formatHostPort puts them back.
import { isIP } from "node:net";

/** A host (IP literal or name, never bracketed) and a port (0 lets the OS pick one). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What a caller allows beyond `host:port`. */
export interface HostPortRules {
  /** The port when the text names none; without it the port is required. */
  readonly defaultPort?: number;
  /** The lowest port accepted; 0 unless given (0 asks the OS for a free port). */
  readonly minPort?: number;
}

/** A parsed address, or why the text is not one (a phrase without the text; callers quote it). */
export type HostPortResult = { readonly ok: true; readonly addr: HostPort } | { readonly ok: false; readonly detail: string };

/** RFC 1123 labels of letters, digits and hyphens, optionally ending in the root's dot. */
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;

/**
 * Parses `host:port`; whitespace is refused (callers that allow it around the text trim first). Never throws.
 * @example parseHostPort("[::1]:9090") // { ok: true, addr: { host: "::1", port: 9090 } }
 * @example parseHostPort("localhost", { defaultPort: 8448 }) // { ok: true, addr: { host: "localhost", port: 8448 } }
 */
export function parseHostPort(text: string, rules: HostPortRules = {}): HostPortResult {
  const split = text.startsWith("[") ? splitBracketed(text) : splitPlain(text, rules.defaultPort ?? 5060);
  if (typeof split === "string") return { ok: false, detail: split };
  const [host, portText] = split;
  if (portText === undefined) {
    if (rules.defaultPort === undefined) return { ok: false, detail: "missing port" };
    return { ok: true, addr: { host, port: rules.defaultPort } };
  }
  const min = rules.minPort ?? 0;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : -1;
  if (port < min || port > 65535) return { ok: false, detail: `port must be ${min}..65535, got ${JSON.stringify(portText)}` };
  return { ok: true, addr: { host, port } };
}

/** "[v6]" or "[v6]:port" → [host, port text]; or what is wrong. */
function splitBracketed(s: string): [string, string | undefined] | string {
  const close = s.indexOf("]");
  if (close < 0) return "missing ']' after the IPv6 address";
  const host = s.slice(1, close);
  const rest = s.slice(close + 1);
  if (rest !== "" && !rest.startsWith(":")) return `expected ':' and a port after ']', got ${JSON.stringify(rest)}`;
  if (isIP(host) !== 6) return `brackets hold an IPv6 address, got ${JSON.stringify(host)}`;
  return [host, rest === "" ? undefined : rest.slice(1)];
}

/** "host" or "host:port" → [host, port text]; or what is wrong. */
function splitPlain(s: string, examplePort: number): [string, string | undefined] | string {
  const colon = s.indexOf(":");
  if (colon !== s.lastIndexOf(":")) return `an IPv6 address needs brackets, as in "[::1]:${examplePort}"`;
  const host = colon < 0 ? s : s.slice(0, colon);
  if (host === "") return "missing host";
  if (isIP(host) === 0 && !HOSTNAME.test(host)) return `host ${JSON.stringify(host)} is neither an IP address nor a host name`;
  return [host, colon < 0 ? undefined : s.slice(colon + 1)];
}

/** A host without its brackets, if it has them: "[::1]" → "::1"; anything else as it is. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** A host as it stands before a port or in a URI: an IPv6 address bracketed, once. */
export function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** `host:port`, bracketing an IPv6 host. @example formatHostPort("::1", 5060) // "[::1]:5060" */
export function formatHostPort(host: string, port: number): string {
  return `${bracket(host)}:${port}`;
}
