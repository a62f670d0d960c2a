// evsip app of the load tool's relay and async scenarios, run by `evsip run` as a child process:
// the evapi macro bench's routing (OPTIONS → evapi_relay → 200; INVITE → async relay → continue
// → 200), its evapi listener on EVSIP_LOAD_EVAPI (host:port).
import { defineApp } from "../../../src/app.js";
import { evapiApp } from "../../sipp-evapi.bench.js";
import { requiredEnv, withLoadMetrics } from "./env.js";

export default withLoadMetrics(
  defineApp({ ...evapiApp, modules: { evapi: { bindAddr: requiredEnv("EVSIP_LOAD_EVAPI"), maxClients: 16 } } }),
);
