// Stateless replies (Kamailio sl): the reply is built from the request's bytes and sent where
// RFC 3261 §18.2.2 / RFC 3581 say. The To-tag is stable for retransmissions of one request (a hash
// behind a per-server prefix), which is also how the ACK to a stateless non-2xx is recognised and
// absorbed instead of running the request route.
import { randomBytes } from "node:crypto";
import { buildResponse } from "../sip/index.js";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import type { Engine } from "./engine.js";
import type { RouteContext } from "./context.js";
import { hash64hexJoined } from "../common/hash64.js";

const PIPE = 0x7c;

export class StatelessReplier {
  /** Per-server To-tag prefix. */
  readonly tagPrefix = randomBytes(4).toString("hex");
  readonly stats = { replies: 0, sendFailures: 0, acksAbsorbed: 0 };

  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** The To-tag this server gives `req` (stable across its retransmissions). */
  toTagFor(req: SipMessageLike): string {
    return `${this.tagPrefix}.${hash64hexJoined(req.callId, req.from.tag ?? "", String(req.cseq.seq), PIPE)}`;
  }

  /** sl_send_reply. Never answers an ACK. */
  sendReply(ctx: RouteContext, code: number, reason: string): boolean {
    const req = ctx.msg;
    if (!req.isRequest || req.method === "ACK") return false;
    // Like Kamailio's send_reply(): with a transaction in hand the reply is stateful, so the
    // transaction re-sends it to retransmissions instead of swallowing them.
    const stateful = this.engine.tu.replyIfStateful(ctx, code, reason);
    if (stateful !== undefined) {
      ctx.replied = true;
      return stateful;
    }
    ctx.replied = true;
    return this.replyTo(req, ctx.src, code, reason, ctx.replyHeaders);
  }

  /**
   * A stateless reply to a request no route has seen (a refused one); `headers` are added lines. A
   * 1xx or 2xx carries the request's Record-Route, as a UAS's must (RFC 3261 §12.1.1) and
   * Kamailio's sl_send_reply does: the caller routes the dialog's ACK and BYE through the proxies.
   */
  replyTo(req: SipMessageLike, src: Source, code: number, reason: string, headers?: readonly string[]): boolean {
    const toTag = req.to.tag || code < 101 ? undefined : this.toTagFor(req);
    return this.send(req, src, buildResponse(req, code, reason, { toTag, headers, copyRecordRoute: true }));
  }

  /** A stateless reply without a To tag, for a request whose From, To, Call-ID or CSeq do not parse. */
  replyRaw(req: SipMessageLike, src: Source, code: number, reason: string): boolean {
    return this.send(req, src, buildResponse(req, code, reason));
  }

  /** A reply built elsewhere (e.g. 483 from forward) sent back to the request's source. */
  sendBuilt(req: SipMessageLike, ctx: RouteContext, buf: Buffer): boolean {
    return this.send(req, ctx.src, buf);
  }

  private send(req: SipMessageLike, src: Source, buf: Buffer): boolean {
    const transport = this.engine.transport;
    const ok = transport.send(buf, transport.replyDestination(req, src));
    if (ok) this.stats.replies++;
    else this.stats.sendFailures++;
    return ok;
  }

  /** True for the ACK of a reply this server sent statelessly (absorbed hop by hop). */
  isOwnAck(msg: SipMessageLike): boolean {
    if (msg.method !== "ACK") return false;
    const tag = msg.to.tag;
    return tag !== undefined && tag.startsWith(this.tagPrefix + ".");
  }
}
