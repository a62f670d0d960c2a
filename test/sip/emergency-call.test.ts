// isEmergencyCall: an INVITE to the emergency service URN or one of its sub-services, in any case,
// with parameters; not another service, not another method, not a To header.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isEmergencyCall } from "../../src/sip/emergency-call.js";
import { parseMessage } from "../../src/sip/index.js";
import { sipRequest } from "../support/sip-samples.js";

function is(method: string, uri: string): boolean {
  const r = parseMessage(sipRequest({ method, uri }));
  assert.ok(r.ok);
  return isEmergencyCall(r.msg);
}

test("emergency calls: the sos URN and its sub-services, INVITEs only", () => {
  const cases: [string, string, boolean][] = [
    ["INVITE", "urn:service:sos", true],
    ["INVITE", "URN:Service:SOS", true],
    ["INVITE", "urn:service:sos.police", true],
    ["INVITE", "urn:service:sos.fire;x=1", true],
    ["INVITE", "urn:service:sos;lr", true],
    ["INVITE", "urn:service:sos.", false],
    ["INVITE", "urn:service:sos.;x", false],
    ["INVITE", "urn:service:sosx", false],
    ["INVITE", "urn:service:counseling", false],
    ["INVITE", "sip:112@127.0.0.1", false],
    ["INVITE", "urn:service:so", false],
    ["OPTIONS", "urn:service:sos", false],
    ["MESSAGE", "urn:service:sos", false],
  ];
  for (const [method, uri, want] of cases) assert.equal(is(method, uri), want, `${method} ${uri}`);
});
