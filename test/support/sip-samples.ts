// SIP message builders for transport tests: small, valid requests and responses with a chosen Via
// and body, as Buffers ready to send or to frame.

/** A request with a correct Content-Length. */
export function sipRequest(
  opts: { method?: string; uri?: string; via?: string; body?: string; callId?: string; clName?: string; toTag?: string } = {},
): Buffer {
  const body = Buffer.from(opts.body ?? "", "utf8");
  const method = opts.method ?? "OPTIONS";
  const lines = [
    `${method} ${opts.uri ?? "sip:bob@example.com"} SIP/2.0`,
    `Via: ${opts.via ?? "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1"}`,
    "Max-Forwards: 70",
    "From: <sip:alice@example.com>;tag=a1",
    `To: <sip:bob@example.com>${opts.toTag === undefined ? "" : `;tag=${opts.toTag}`}`,
    `Call-ID: ${opts.callId ?? "call-1"}`,
    `CSeq: 1 ${method}`,
    `${opts.clName ?? "Content-Length"}: ${body.length}`,
    "",
    "",
  ];
  return Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]);
}

/** A response with the given Via lines (top first). */
export function sipResponse(vias: readonly string[], status = 200): Buffer {
  const lines = [
    `SIP/2.0 ${status} OK`,
    ...vias.map((v) => `Via: ${v}`),
    "From: <sip:alice@example.com>;tag=a1",
    "To: <sip:bob@example.com>;tag=b1",
    "Call-ID: call-1",
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "latin1");
}
