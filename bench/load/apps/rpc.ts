// evsip app of the load tool's rpc scenario, run by `evsip run` as a child process: the jsonrpc
// macro bench's routing (INVITE → jsonrpc_request → 200), its service at EVSIP_LOAD_RPC (host:port).
import { jsonrpcApp } from "../../sipp-jsonrpc.bench.js";
import { requiredEnv, withLoadMetrics } from "./env.js";

export default withLoadMetrics(jsonrpcApp(`${requiredEnv("EVSIP_LOAD_RPC")},1`));
