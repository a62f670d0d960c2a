// A route context on a real parsed message and a real engine (no sockets), for pseudo-variable,
// transformation and json-function tests.
import assert from "node:assert/strict";
import { pino } from "pino";
import { Engine } from "../../src/core/engine.js";
import type { RouteContext } from "../../src/core/context.js";
import type { BaseContext } from "../../src/core/context-types.js";
import { CORE_MODULES } from "../../src/core/core-modules.js";
import { parseMessage } from "../../src/sip/index.js";
import { TransportLayer } from "../../src/transport/transport-layer.js";
import { validateParams } from "../../src/core/params.js";
import { statefulTransactionUser, TM_SCHEMA } from "../../src/tu/index.js";
import { ADMISSION_SCHEMA } from "../../src/core/admission.js";
import { LOCK_SCHEMA } from "../../src/core/locks.js";
import type { Source } from "../../src/transport/types.js";

export const SAMPLE_INVITE =
  "INVITE sip:bob@example.com:5070;transport=udp SIP/2.0\r\n" +
  "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx\r\n" +
  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2\r\n" +
  "Max-Forwards: 70\r\n" +
  'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774\r\n' +
  "To: <sip:bob@example.com>\r\n" +
  "Call-ID: a84b4c76e66710@pc33\r\n" +
  "CSeq: 314159 INVITE\r\n" +
  "Content-Type: application/sdp\r\n" +
  "X-Account: 42\r\n" +
  "X-Account: 43\r\n" +
  "Content-Length: 4\r\n\r\nv=0\n";

export const SAMPLE_SRC: Source = {
  proto: "udp",
  remoteAddr: "10.0.0.1",
  remotePort: 5062,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

/** A request-route context for `text`, with the core modules' APIs (json, jansson, tm…) on it. */
export function routeContext(text = SAMPLE_INVITE, logger = pino({ level: "silent" })): RouteContext & BaseContext {
  const transport = new TransportLayer({ listen: [], logger, parse: parseMessage }, () => undefined);
  const engine = new Engine({
    logger,
    app: {},
    transport,
    admission: validateParams("admission", ADMISSION_SCHEMA, {}).params,
    locks: validateParams("locks", LOCK_SCHEMA, {}).params,
    transactionUser: statefulTransactionUser(validateParams("tm", TM_SCHEMA, {}).params),
  });
  for (const def of CORE_MODULES) {
    const inst = def.create({ logger, engine, tm: engine.tu, registerPv: (n, cls) => engine.pvs.register(n, cls) }, {});
    engine.defineContextApi(def.ctxName, (ctx) => inst.api(ctx));
  }
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok);
  return engine.newContext("request", r.msg, SAMPLE_SRC) as RouteContext & BaseContext;
}
