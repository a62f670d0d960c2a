// Edits one part of a SIP URI text ($rU, $rd, $rp writes) without re-serialising the rest, so
// parameters and headers keep their exact bytes.
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

function join(p: UriSplit): string {
  return `${p.scheme}:${p.userinfo ? `${p.userinfo}@` : ""}${p.host}${p.port ? `:${p.port}` : ""}${p.rest}`;
}

/** Replaces the user part (keeps a password); "" removes the userinfo. */
export function setUriUser(uri: string, user: string): string {
  const p = split(uri);
  if (!p) return uri;
  const pw = p.userinfo.includes(":") ? p.userinfo.slice(p.userinfo.indexOf(":")) : "";
  p.userinfo = user ? user + pw : "";
  return join(p);
}

/** Replaces the host; an IPv6 address gets brackets. */
export function setUriHost(uri: string, host: string): string {
  const p = split(uri);
  if (!p) return uri;
  p.host = bracket(host);
  return join(p);
}

/** Replaces the port; "" or 0 removes it. */
export function setUriPort(uri: string, port: string | number): string {
  const p = split(uri);
  if (!p) return uri;
  p.port = port === 0 ? "" : String(port);
  return join(p);
}
