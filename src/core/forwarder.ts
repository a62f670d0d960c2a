// Stateless forwarding (Kamailio `forward()`): our Via with a branch derived from the incoming one
// (RFC 3261 §16.11, so retransmissions and CANCEL get the same branch), Max-Forwards decremented, the
// Request-URI replaced when the script changed it — all as edits on the original bytes. Responses
// whose top Via is ours lose it and follow the next Via back (RFC 3261 §16.7, §18.2.2); over TCP
// only on a connection we already hold, since a spoofed UDP response could name any address.
import { withEdits, type HeaderEdits } from "./header-edits.js";
import { buildResponse } from "../sip/index.js";
import { relayedWithoutForeignFeedback } from "../sip/overload-via.js";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import { formatHostPort } from "../common/host-port.js";
import type { RouteContext } from "./context.js";
import type { Engine } from "./engine.js";
import { hash64hex } from "../common/hash64.js";
import { atAddress, uriToTarget, type Target } from "./target.js";
import { receivedViaLine } from "./via-received.js";
import { routeRewrite } from "./rr.js";

const MAGIC = "z9hG4bK";
const NO_CONNECT = Object.freeze({ connect: false });

/** Branch for a stateless forward: stable for retransmissions of the same request. */
export function statelessBranch(msg: SipMessageLike): string {
  const via = msg.topVia;
  const key =
    via.branch && via.branch.startsWith(MAGIC)
      ? `${via.branch}|${via.host}|${via.port ?? ""}`
      : `${msg.requestUri}|${msg.to.tag ?? ""}|${msg.from.tag ?? ""}|${msg.callId}|${msg.cseq.seq}|${via.raw}`;
  return `${MAGIC}sl${hash64hex(key)}`;
}

export class Forwarder {
  readonly stats = { requests: 0, responses: 0, noTarget: 0, notOurVia: 0, sendFailures: 0, maxfwdExceeded: 0 };

  private readonly engine: Engine;
  private readonly viaHeads = new Map<string, string>();

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** The Via line evsip puts on a request leaving by `proto` towards `host`. */
  viaLine(target: Target, branch: string): string | undefined {
    const family = target.host.includes(":") ? 6 : 4;
    const key = `${target.proto}${family}`;
    let head = this.viaHeads.get(key);
    if (head === undefined) {
      // Listeners are fixed once the server runs: build "Via: SIP/2.0/UDP host:port" once per kind.
      const local = this.engine.transport.localAddress(target.proto, family) ?? this.engine.transport.localAddress(target.proto);
      if (!local) return undefined;
      head = `Via: SIP/2.0/${target.proto.toUpperCase()} ${formatHostPort(local.host, local.port)};branch=`;
      this.viaHeads.set(key, head);
    }
    return head + branch;
  }

  /** Where ctx's request goes: `target`, else $du, else the Request-URI; logged when unusable. */
  targetOf(ctx: RouteContext, target: string | undefined, what: string): Target | undefined {
    const uri = target ?? ctx.dstUri ?? ctx.ruri;
    const t = uriToTarget(uri);
    if (!t) {
      this.stats.noTarget++;
      this.engine.logger.warn({ code: "ERR_FORWARD_NO_TARGET", uri }, `${what}: no usable target`);
    }
    return t;
  }

  /**
   * ctx's request as it leaves towards `t`, for stateless forward and tm relay alike: our Via with
   * `branch` on top (the received/rport-fixed one below it), Record-Route when asked, Max-Forwards
   * decremented or added, the new Request-URI and the loose-route edits. undefined when no
   * listener of t's protocol can carry our Via. `viaParams` follow the branch in our Via (tm's
   * RFC 7339 `oc`).
   */
  requestBytes(ctx: RouteContext, t: Target, branch: string, viaParams = ""): Buffer | undefined {
    const line = this.viaLine(t, branch);
    if (!line) return undefined;
    const via = viaParams === "" ? line : line + viaParams;
    const msg = ctx.msg;
    const fixedVia = receivedViaLine(msg, ctx.src);
    const routes = routeRewrite(ctx);
    const extra = ctx.extraHeaders;
    const edits = withEdits(extra ? { ...routes, append: [...(routes.append ?? []), ...extra] } : routes, ctx.headerEdits);
    return msg.rewrite({
      requestUri: ctx.newUri,
      maxForwards: msg.maxForwards === undefined ? ctx.maxfwdLimit : msg.maxForwards - 1,
      removeTopVia: fixedVia !== undefined,
      prepend: [...this.engine.recordRouteLines(ctx, t), via, ...(fixedVia ? [fixedVia] : [])],
      ...edits,
    });
  }

  forwardRequest(ctx: RouteContext, target?: string): boolean {
    const msg = ctx.msg;
    if (msg.maxForwards === 0) {
      this.stats.maxfwdExceeded++;
      if (msg.method !== "ACK")
        this.engine.sl.sendBuilt(msg, ctx, buildResponse(msg, 483, "Too Many Hops", { toTag: this.engine.sl.toTagFor(msg) }));
      ctx.replied = true;
      return false;
    }
    const t = this.targetOf(ctx, target, "forward");
    if (!t) return false;
    const buf = this.requestBytes(ctx, t, statelessBranch(msg));
    if (!buf) {
      this.stats.noTarget++;
      this.engine.logger.warn({ code: "ERR_FORWARD_NO_TARGET", proto: t.proto }, "forward: no listener for our Via");
      return false;
    }
    ctx.replied = true;
    this.stats.requests++;
    atAddress(
      t,
      (addr) => {
        if (!this.engine.transport.send(buf, { proto: t.proto, addr, port: t.port })) this.stats.sendFailures++;
        return true;
      },
      (err) => {
        this.stats.sendFailures++;
        this.engine.logger.warn({ code: "ERR_TRANSPORT_NO_ROUTE", host: t.host, err: String(err) }, "cannot resolve host");
      },
    );
    return true;
  }

  /** Forwards a response statelessly by its Via, with a reply route's header edits; false when the top Via is not ours. */
  forwardResponse(msg: SipMessageLike, _src: Source, edits?: HeaderEdits): boolean {
    const via = msg.topVia;
    if (!this.engine.transport.isLocal(via.host, via.port) || msg.vias.length < 2) {
      this.stats.notOurVia++;
      return false;
    }
    const next = msg.vias[1];
    const dest = next && this.engine.transport.viaDestination(next);
    if (!dest) {
      // The Via below ours names a transport evsip does not speak (TLS, WS, SCTP) or no host.
      this.stats.noTarget++;
      this.engine.transport.log.warn("ERR_FORWARD_NO_TARGET", "response: the next Via names no usable destination, dropped", {
        via: `${next?.transport} ${next?.host}`,
        callId: msg.callId,
      });
      return false;
    }
    const built = msg.rewrite(withEdits({ removeTopVia: true }, edits));
    const buf = relayedWithoutForeignFeedback(built);
    this.stats.responses++;
    if (!this.engine.transport.send(buf, dest, NO_CONNECT)) this.stats.sendFailures++;
    return true;
  }
}
