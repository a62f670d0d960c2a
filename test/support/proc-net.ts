// The kernel's socket tables, for tests and the load tool: the router's own reader (one parser).
export { procNetSockets } from "../../src/transport/proc-net.js";
