// The load tool's UAS, on its own UDP socket: answers every INVITE, BYE and other request at once
// with 200 (Via, Record-Route, From, Call-ID, CSeq copied; a To tag made of the Call-ID, so a
// retransmitted INVITE gets the same answer), ignores ACKs, never retransmits. The answer goes where
// the top Via says (RFC 3261 §18.2.2): the source with rport, else the sent-by port. In the proxy
// scenario that is the router either way; it matters where a test points the tool at the UAS
// directly, whose requests leave from the sending thread's socket but want their answers elsewhere. It stands in for the
// callee of the stateful proxy scenario; its CPU is the tool's, not the router's.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";

const COPIED = new Set(["via", "v", "from", "f", "call-id", "i", "cseq", "record-route"]);

/** The 200 answering request text `req` (undefined for an ACK or a response). */
export function answer200(req: string, contact: string): string | undefined {
  if (req.startsWith("SIP/2.0") || req.startsWith("ACK ")) return undefined;
  const end = req.indexOf("\r\n\r\n");
  const lines = (end < 0 ? req : req.slice(0, end)).split("\r\n");
  let out = "SIP/2.0 200 OK\r\n";
  let callId = "";
  let to = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const c = line.indexOf(":");
    if (c <= 0) continue;
    const name = line.slice(0, c).trim().toLowerCase();
    if (COPIED.has(name)) out += `${line}\r\n`;
    if (name === "call-id" || name === "i") callId = line.slice(c + 1).trim();
    if (name === "to" || name === "t") to = line;
  }
  if (to !== "" && !/;\s*tag=/i.test(to)) to += `;tag=u${tagOf(callId)}`;
  out += `${to}\r\nContact: <sip:uas@${contact}>\r\nContent-Length: 0\r\n\r\n`;
  return out;
}

const TOP_VIA = /^(?:Via|v):\s*SIP\/2\.0\/UDP\s+[^\s;:]+(?::(\d+))?([^\r\n,]*)/im;

/** The port a response goes to: the source port if the top Via asks for rport, else its sent-by port. */
export function replyPort(res: string, sourcePort: number): number {
  const m = TOP_VIA.exec(res);
  if (m === null || /;\s*rport/i.test(m[2] ?? "")) return sourcePort;
  return m[1] === undefined ? 5060 : Number(m[1]);
}

/** A stable To tag per call: the Call-ID's token characters. */
function tagOf(callId: string): string {
  return callId.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 32);
}

export interface Uas {
  readonly port: number;
  /** Requests answered so far. */
  answered(): number;
  close(): Promise<void>;
}

/** Binds the UAS on 127.0.0.1 (ephemeral port) with a receive buffer of `rcvbuf` bytes. */
export async function startUas(rcvbuf: number): Promise<Uas> {
  const sock: Socket = createSocket({ type: "udp4", recvBufferSize: rcvbuf });
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  const port = sock.address().port;
  let n = 0;
  sock.on("message", (msg, rinfo) => {
    const res = answer200(msg.toString("latin1"), `127.0.0.1:${port}`);
    if (res === undefined) return;
    n++;
    sock.send(Buffer.from(res, "latin1"), replyPort(res, rinfo.port), rinfo.address);
  });
  return {
    port,
    answered: () => n,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
