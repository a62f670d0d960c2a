// The error class the client SDK throws and emits, carrying a stable code (errors.ts), plus the
// small helper that turns a decoder Failure into one.
import type { ErrorCode, Failure } from "./errors.js";

/** An error of the client SDK: match on `code` (`ERR_CLIENT_*` or `ERR_NETSTRING_*`), never on the message. */
export class ClientError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Wraps a coded Failure (e.g. from the netstring decoder) as a {@link ClientError}. */
export function failureToError(f: Failure): ClientError {
  return new ClientError(f.code, f.detail);
}
