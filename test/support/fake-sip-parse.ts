// A tiny stand-in for src/sip's parseMessage, enough for transport tests: start line, header
// lookup, Via list with received/rport. Injected through TransportOptions.parse until (and beside)
// the real parser; tests that need real SIP semantics use parseMessage itself.
import type { ParseResult, SipLimits, SipMessageLike, Via } from "../../src/sip/types.js";

const COMPACT: Record<string, string> = { v: "via", l: "content-length", i: "call-id", f: "from", t: "to" };

function parseVia(raw: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^;:\s]+)(?::(\d+))?((?:;[^;]*)*)$/.exec(raw.trim());
  if (m === null) return undefined;
  const params = new Map<string, string | null>();
  for (const p of (m[4] ?? "").split(";").slice(1)) {
    const eq = p.indexOf("=");
    if (eq === -1) params.set(p.trim().toLowerCase(), null);
    else params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  const rp = params.get("rport");
  return {
    transport: (m[1] ?? "").toUpperCase(),
    host: m[2] ?? "",
    port: m[3] === undefined ? undefined : Number(m[3]),
    branch: params.get("branch") ?? undefined,
    received: params.get("received") ?? undefined,
    rport: rp === undefined ? undefined : rp === null ? null : Number(rp),
    params,
    raw,
  };
}

/** Parses just enough of a SIP message; ERR_SIP_BAD_START_LINE / ERR_SIP_BAD_VIA otherwise. */
export function fakeParse(buf: Buffer, limits: SipLimits): ParseResult {
  if (buf.length > limits.maxMessageSize) return { ok: false, code: "ERR_SIP_TOO_LARGE", detail: "too large" };
  const text = buf.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return { ok: false, code: "ERR_SIP_NO_HEADER_END", detail: "no header end" };
  const lines = text.slice(0, end).split("\r\n");
  const start = lines[0] ?? "";
  const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  const res = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(start);
  if (req === null && res === null) return { ok: false, code: "ERR_SIP_BAD_START_LINE", detail: start.slice(0, 40) };
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    if (c <= 0) return { ok: false, code: "ERR_SIP_BAD_HEADER", detail: l.slice(0, 40) };
    const n = l.slice(0, c).trim().toLowerCase();
    headers.push([COMPACT[n] ?? n, l.slice(c + 1).trim()]);
  }
  const values = (name: string): string[] => {
    const n = name.toLowerCase();
    const out: string[] = [];
    for (const [k, v] of headers) if (k === (COMPACT[n] ?? n)) out.push(...(k === "via" ? v.split(",") : [v]));
    return out;
  };
  const vias: Via[] = [];
  for (const v of values("via")) {
    const via = parseVia(v);
    if (via === undefined) return { ok: false, code: "ERR_SIP_BAD_VIA", detail: v };
    vias.push(via);
  }
  const cseq = (values("cseq")[0] ?? "0 X").split(/\s+/);
  const msg = {
    buf,
    isRequest: req !== null,
    method: req !== null ? (req[1] ?? "") : (cseq[1] ?? ""),
    requestUri: req?.[2] ?? "",
    status: res !== null ? Number(res[1]) : 0,
    reason: res?.[2] ?? "",
    header: (n: string) => values(n)[0],
    headerValues: values,
    hasHeader: (n: string) => values(n).length > 0,
    headerCount: headers.length,
    callId: values("call-id")[0] ?? "",
    vias,
    get topVia(): Via {
      const v = vias[0];
      if (v === undefined) throw new Error("no Via");
      return v;
    },
    body: buf.subarray(end + 4),
    contentLength: buf.length - end - 4,
  };
  return { ok: true, msg: msg as unknown as SipMessageLike };
}
