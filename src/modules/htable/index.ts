// Public surface of the htable module: the definition for builtin-modules.ts, ctx.htable's type, and
// the table pieces the tests and benchmarks drive directly.
export { htableModule, type HtableModuleInstance } from "./htable-module.js";
export type { HtableApi, HtableExpired, HtableParamsConfig, HtValue, TablesParam } from "./api-types.js";
export { HashTable } from "./hash-table.js";
export { parseTables, type TableSpec } from "./table-spec.js";
