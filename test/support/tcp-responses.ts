// Responses read from one TCP connection to the router, each parsed once it is complete: the
// router's own responses have no body, so a blank line ends each one.
import type { Socket } from "node:net";
import { parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";

/** Final responses over one TCP connection, each parsed as it is complete (the router's have no body). */
export class TcpResponses {
  private text = "";
  private readonly waiting: SipMessageLike[] = [];
  private wake: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.text += d.toString("latin1");
      for (let end = this.text.indexOf("\r\n\r\n"); end >= 0; end = this.text.indexOf("\r\n\r\n")) {
        const r = parseMessage(Buffer.from(this.text.slice(0, end + 4), "latin1"));
        this.text = this.text.slice(end + 4);
        if (r.ok) this.waiting.push(r.msg);
      }
      this.wake?.();
    });
  }

  async next(timeoutMs: number): Promise<SipMessageLike> {
    const until = Date.now() + timeoutMs;
    while (this.waiting.length === 0) {
      if (Date.now() > until) throw new Error("no response over TCP in time");
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, until - Date.now());
      });
      clearTimeout(timer);
    }
    return this.waiting.shift() as SipMessageLike;
  }
}
