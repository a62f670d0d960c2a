// Edits one part of a SIP URI text ($rU, $rd, $rp writes) without re-serialising the rest, so
// parameters and headers keep their exact bytes. A urn: is split as parseUri reads it (the
// namespace is its user part, the rest its host) and a tel: has only its number: a part a URI does
// not have is not written (undefined), and the caller refuses the write.
import { bracket } from "../common/host-port.js";

interface UriSplit {
  scheme: string; // "sip"
  userinfo: string; // "alice:pw" or ""
  host: string; // "example.com" or "[::1]"
  port: string; // "5060" or ""
  rest: string; // ";transport=tcp?x=y" or ""
}

function split(uri: string): UriSplit | undefined {
  const colon = uri.indexOf(":");
  if (colon <= 0) return undefined;
  const scheme = uri.slice(0, colon);
  let body = uri.slice(colon + 1);
  let restAt = body.search(/[;?]/);
  const at = body.lastIndexOf("@", restAt < 0 ? body.length : restAt);
  const userinfo = at >= 0 ? body.slice(0, at) : "";
  body = at >= 0 ? body.slice(at + 1) : body;
  restAt = body.search(/[;?]/);
  const hostport = restAt < 0 ? body : body.slice(0, restAt);
  const rest = restAt < 0 ? "" : body.slice(restAt);
  let host = hostport;
  let port = "";
  const close = hostport.lastIndexOf("]");
  const pc = hostport.lastIndexOf(":");
  if (pc > close) {
    host = hostport.slice(0, pc);
    port = hostport.slice(pc + 1);
  }
  return { scheme, userinfo, host, port, rest };
}

/** urn:NID:NSS[;params] → its three parts; tel:NUMBER[;params] → the number and the params. */
function splitOther(uri: string): { scheme: "urn" | "tel"; nid: string; main: string; rest: string } | undefined {
  const colon = uri.indexOf(":");
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme !== "urn" && scheme !== "tel") return undefined;
  const body = uri.slice(colon + 1);
  const nidEnd = scheme === "urn" ? body.indexOf(":") : -1;
  const semi = body.indexOf(";", nidEnd + 1);
  const end = semi < 0 ? body.length : semi;
  return { scheme, nid: body.slice(0, Math.max(0, nidEnd)), main: body.slice(nidEnd + 1, end), rest: body.slice(end) };
}

function join(p: UriSplit): string {
  return `${p.scheme}:${p.userinfo ? `${p.userinfo}@` : ""}${p.host}${p.port ? `:${p.port}` : ""}${p.rest}`;
}

/** Replaces the user part (keeps a password); "" removes the userinfo. A urn:'s namespace, a tel:'s number. */
export function setUriUser(uri: string, user: string): string {
  const o = splitOther(uri);
  if (o !== undefined) return o.scheme === "urn" ? `urn:${user}:${o.main}${o.rest}` : `tel:${user}${o.rest}`;
  const p = split(uri);
  if (!p) return uri;
  const pw = p.userinfo.includes(":") ? p.userinfo.slice(p.userinfo.indexOf(":")) : "";
  p.userinfo = user ? user + pw : "";
  return join(p);
}

/** Replaces the host; an IPv6 address gets brackets. A urn:'s namespace-specific string; a tel: has none (undefined). */
export function setUriHost(uri: string, host: string): string | undefined {
  const o = splitOther(uri);
  if (o !== undefined) return o.scheme === "urn" ? `urn:${o.nid}:${host}${o.rest}` : undefined;
  const p = split(uri);
  if (!p) return uri;
  p.host = bracket(host);
  return join(p);
}

/** Replaces the port; "" or 0 removes it. A urn: or tel: has none (undefined). */
export function setUriPort(uri: string, port: string | number): string | undefined {
  if (splitOther(uri) !== undefined) return undefined;
  const p = split(uri);
  if (!p) return uri;
  p.port = port === 0 ? "" : String(port);
  return join(p);
}
