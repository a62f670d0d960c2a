// evsip app of the load tool's proxy scenario, run by `evsip run` as a child process: the relay
// macro bench's stateful record-routing proxy, every request to the UAS at EVSIP_LOAD_UAS (a SIP URI).
import { relayApp } from "../../sipp-relay.bench.js";
import { requiredEnv, withLoadMetrics } from "./env.js";

// EVSIP_LOAD_TM_OC=1: an edge router of --edge oc, with RFC 7339 towards the router it relays to.
const app = relayApp(requiredEnv("EVSIP_LOAD_UAS"));
export default withLoadMetrics(process.env.EVSIP_LOAD_TM_OC === "1" ? { ...app, tm: { overloadControl: true } } : app);
