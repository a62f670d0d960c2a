// The logger the SDK writes to, when one is given: the three pino-style methods it calls, so a pino
// logger fits as it is and the package itself depends on no logging library.

/** `logger.warn({ code, … }, "message")`, as pino. */
export interface ClientLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
