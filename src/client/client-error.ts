// The error class the client SDK throws and emits, carrying a stable ErrorCode (src/errors.ts),
// plus the small helper that turns a decoder Failure into one.
import { EvsipError, type Failure } from "../errors.js";

/** An error of the client SDK: match on `code` (`ERR_CLIENT_*` or `ERR_NETSTRING_*`). */
export class ClientError extends EvsipError {}

/** Wraps a coded Failure (e.g. from the netstring decoder) as a {@link ClientError}. */
export function failureToError(f: Failure): ClientError {
  return new ClientError(f.code, f.detail);
}
