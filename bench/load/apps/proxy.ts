// evsip app of the load tool's proxy scenario, run by `evsip run` as a child process: the relay
// macro bench's stateful record-routing proxy, every request to the UAS at EVSIP_LOAD_UAS (a SIP URI).
import { relayApp } from "../../sipp-relay.bench.js";
import { requiredEnv, withLoadMetrics } from "./env.js";

export default withLoadMetrics(relayApp(requiredEnv("EVSIP_LOAD_UAS")));
