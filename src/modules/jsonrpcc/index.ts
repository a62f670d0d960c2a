// Public surface of the jsonrpcc module: the definition for builtin-modules.ts, ctx.jsonrpc's type,
// and the client pieces the tests and benchmarks drive directly.
export { jsonrpccModule, resultVarSpec, type JsonRpcModuleInstance } from "./jsonrpcc-module.js";
export type { JsonRpcAnyRouteApi, JsonRpcApi, JsonRpcCallOptions, JsonRpcParamsConfig, JsonRpcParams } from "./api-types.js";
export { JsonRpcClient, type JsonRpcClientOptions, type Outcome } from "./jsonrpc-client.js";
export { parseServers, groupServers, type ServerSpec } from "./servers-param.js";
export { parseLenientJson } from "./lenient-json.js";
export { classifyResponse, encodeRequest, normaliseParams, resultText } from "./wire.js";
