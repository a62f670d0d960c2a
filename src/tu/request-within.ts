// t_request_within: a request the router originates inside a dialog it tracks (a BYE on timeout, an
// OPTIONS keepalive). The dialog module picks the side's values (core's InDialogRequest); here they
// become bytes with our Via and leave in a local client transaction of tm, to the first Route past
// this router (loose routing, RFC 3261 §12.2.1.1), else the remote target.
import { buildInDialogRequest, parseNameAddr, splitList } from "../sip/index.js";
import type { Engine } from "../core/engine.js";
import { atAddress, uriToTarget, type Target } from "../core/target.js";
import type { InDialogOutcome, InDialogRequest } from "../core/transaction-user.js";
import type { TransactionLayer } from "../tm/index.js";

/**
 * The route set past this router: every entry up to and including the last one that names us goes
 * (the hops between the other side and us, and our own entries, twice after a spiral).
 */
function routesFromHere(engine: Engine, routeSet: readonly string[]): string[] {
  let from = 0;
  for (let i = 0; i < routeSet.length; i++) {
    const na = parseNameAddr(routeSet[i] ?? "");
    if (na && engine.transport.isLocalUri(na.uri)) from = i + 1;
  }
  return routeSet.slice(from);
}

/** The URI of a Route or Contact value (the first of a list). */
function firstUri(value: string): string | undefined {
  return parseNameAddr(splitList(value)[0] ?? "")?.uri.raw;
}

export function requestWithin(
  engine: Engine,
  tm: TransactionLayer,
  req: InDialogRequest,
  done: (o: InDialogOutcome) => void,
): boolean {
  const requestUri = firstUri(req.remoteTarget);
  if (requestUri === undefined) {
    engine.logger.warn(
      { code: "ERR_FORWARD_NO_TARGET", contact: req.remoteTarget, method: req.method },
      "in-dialog request: no usable remote target",
    );
    return false;
  }
  const routes = routesFromHere(engine, req.routeSet);
  const next = routes.length > 0 ? firstUri(routes[0] ?? "") : requestUri;
  const t: Target | undefined = next === undefined ? undefined : uriToTarget(next);
  if (!t) {
    engine.logger.warn({ code: "ERR_FORWARD_NO_TARGET", uri: next, method: req.method }, "in-dialog request: no usable target");
    return false;
  }
  if (!engine.forwarder.viaLine(t, "x")) {
    engine.logger.warn({ code: "ERR_FORWARD_NO_TARGET", proto: t.proto }, "in-dialog request: no listener for our Via");
    return false;
  }
  const send = (addr: string): boolean => {
    const r = tm.request(
      req.method,
      { proto: t.proto, addr, port: t.port },
      (branch) =>
        buildInDialogRequest({
          method: req.method,
          requestUri,
          via: engine.forwarder.viaLine(t, branch) ?? "",
          routes,
          from: req.from,
          to: req.to,
          callId: req.callId,
          cseq: req.cseq,
        }),
      (status, res) => done({ status, reason: res?.reason ?? "Request Timeout" }),
    );
    if (!r.ok) {
      engine.logger.warn({ code: r.code }, r.detail);
      done({ status: 0, reason: "Not Sent" });
    }
    return true;
  };
  return atAddress(t, send, (err) => {
    engine.logger.warn(
      { code: "ERR_TRANSPORT_NO_ROUTE", host: t.host, err: String(err) },
      "in-dialog request: cannot resolve host",
    );
    done({ status: 0, reason: "Not Sent" });
  });
}
