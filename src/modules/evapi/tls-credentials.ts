// The event socket's TLS credentials (README.md "TLS"): certificate, key and, for client-certificate
// verification, the CA, read from files and checked by building a SecureContext from them. A reload
// (SIGHUP, or reload()) reads the files again; the gate hands the new options to its tls.Server
// (setSecureContext), which affects new connections only: connected clients keep their session.
// A reload that fails keeps the old credentials and says why.
import { readFileSync } from "node:fs";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "pino";
import { EvapiError } from "../../errors.js";

/** The evapi `tls` param. */
export interface EvapiTlsParams {
  /** PEM certificate chain of the router. */
  readonly certFile: string;
  /** PEM private key of that certificate. */
  readonly keyFile: string;
  /** PEM CA bundle that client certificates must chain to; required with verifyClient. */
  readonly caFile?: string;
  /** Ask every client for a certificate and refuse one that does not chain to caFile. */
  readonly verifyClient?: boolean;
}

const KEYS = new Set(["certFile", "keyFile", "caFile", "verifyClient"]);

/** The param check of `tls`. */
export function checkTls(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "must be { certFile, keyFile, caFile?, verifyClient? }";
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !KEYS.has(k));
  if (extra !== undefined) return `has an unknown key ${JSON.stringify(extra)}`;
  for (const k of ["certFile", "keyFile"]) if (typeof o[k] !== "string" || o[k] === "") return `${k} must be a file path`;
  if (o.caFile !== undefined && (typeof o.caFile !== "string" || o.caFile === "")) return "caFile must be a file path";
  if (o.verifyClient !== undefined && typeof o.verifyClient !== "boolean") return "verifyClient must be true or false";
  if (o.verifyClient === true && o.caFile === undefined) return "verifyClient needs caFile (the CA client certificates chain to)";
  return undefined;
}

export class TlsCredentials {
  readonly verifyClient: boolean;
  /** What new connections get: PEM buffers and the protocol floor, already checked. */
  options: SecureContextOptions;
  private readonly params: EvapiTlsParams;
  private readonly logger: Logger;
  private onHup: (() => void) | undefined;

  /** Reads the files; throws EvapiError ERR_EVAPI_TLS_CREDENTIALS naming the file when one cannot be used. */
  constructor(params: EvapiTlsParams, logger: Logger) {
    this.params = params;
    this.logger = logger;
    this.verifyClient = params.verifyClient === true;
    this.options = this.load();
  }

  /** Reads the files again; on failure keeps the current context. True when the new one is in use. */
  reload(): boolean {
    try {
      this.options = this.load();
      this.logger.info({ certFile: this.params.certFile }, "evapi TLS credentials reloaded");
      return true;
    } catch (err) {
      this.logger.error(
        { code: "ERR_EVAPI_TLS_CREDENTIALS", detail: (err as Error).message },
        "evapi TLS reload failed, the previous certificate stays in use",
      );
      return false;
    }
  }

  /** Calls `reload` on every SIGHUP until unwatch(). Only installed with tls; `evsip run` keeps running on SIGHUP either way (cli.ts). */
  watchSighup(reload: () => void): void {
    if (this.onHup) return;
    this.onHup = reload;
    process.on("SIGHUP", this.onHup);
  }

  unwatch(): void {
    if (this.onHup) process.off("SIGHUP", this.onHup);
    this.onHup = undefined;
  }

  private load(): SecureContextOptions {
    const p = this.params;
    const read = (file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new EvapiError("ERR_EVAPI_TLS_CREDENTIALS", `evapi.tls: cannot read ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    };
    const cert = read(p.certFile);
    const key = read(p.keyFile);
    const ca = p.caFile === undefined ? undefined : read(p.caFile);
    const options: SecureContextOptions = { cert, key, ca, minVersion: "TLSv1.2" };
    try {
      createSecureContext(options);
      return options;
    } catch (err) {
      throw new EvapiError("ERR_EVAPI_TLS_CREDENTIALS", `evapi.tls: ${p.certFile} / ${p.keyFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
