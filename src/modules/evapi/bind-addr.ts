// Parses evapi's `bindAddr` ("host:port", "[v6]:port", "host"), Kamailio's bind_addr plus bracketed
// IPv6 literals (Kamailio splits at the first ':' and cannot express IPv6). A missing port is 8448,
// as in Kamailio; port 0 asks the OS for a free port (tests).

/** Kamailio's default evapi port. */
export const DEFAULT_EVAPI_PORT = 8448;

/** A parsed bind address. */
export interface BindAddr {
  readonly host: string;
  readonly port: number;
}

/** Parses a bindAddr; returns an error message instead of throwing. */
export function parseBindAddr(text: string): BindAddr | { error: string } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return { error: `missing ']' in ${JSON.stringify(text)}` };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return { error: `expected ':' after ']' in ${JSON.stringify(text)}` };
    portText = rest === "" ? undefined : rest.slice(1);
    if (!host.includes(":")) return { error: `brackets are for IPv6 literals: ${JSON.stringify(text)}` };
  } else {
    const colon = text.indexOf(":");
    if (colon !== text.lastIndexOf(":")) {
      return { error: `an IPv6 address needs brackets, e.g. "[::1]:8448": ${JSON.stringify(text)}` };
    }
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === "") return { error: `missing host in ${JSON.stringify(text)}` };
  if (/\s/.test(host)) return { error: `whitespace in host ${JSON.stringify(host)}` };
  if (portText === undefined) return { host, port: DEFAULT_EVAPI_PORT };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { error: `port must be 0..65535, got ${JSON.stringify(portText)}` };
  }
  return { host, port: Number(portText) };
}
