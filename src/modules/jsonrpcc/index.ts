// Public surface of the jsonrpcc module: the definition for builtin-modules.ts, ctx.jsonrpc's type,
// and the client pieces the tests and benchmarks drive directly.
export { jsonrpccModule, resultVarSpec, type JsonRpcModuleInstance } from "./jsonrpcc-module.js";
export type { JsonRpcAnyRouteApi, JsonRpcApi, JsonRpcCallOptions, JsonRpcParamsConfig, JsonRpcParams } from "./api-types.js";
export { JsonRpcClient, type JsonRpcClientOptions, type Outcome } from "./jsonrpc-client.js";
export { ServerLink, type LinkStats, type LinkState } from "./server-link.js";
export { parseServers, groupServers, serverAddress, type ServerSpec, type ServerGroup } from "./servers-param.js";
export { parseLenientJson } from "./lenient-json.js";
export { classifyResponse, encodeRequest, encodeNotification, normaliseParams, resultText } from "./wire.js";
