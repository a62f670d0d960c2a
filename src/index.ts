// The one public entry of evsip (package.json "exports" hides the rest).
export * from "./errors.js";
export type * from "./sip/types.js";
