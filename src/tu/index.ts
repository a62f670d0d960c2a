// The transaction user (src/core/transaction-user.ts declares it): stateful processing as the
// script sees it, on top of src/tm.
export { statefulTransactionUser } from "./transaction-user.js";
export { TM_SCHEMA, type TmParams } from "./tm-params.js";
