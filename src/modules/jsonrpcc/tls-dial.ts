// jsonrpcc over TLS (docs/jsonrpcc.md "TLS"): the `tls` param names the CA that the servers'
// certificates must chain to (system CAs when left out) and, for servers that want one, a client
// certificate. The files are read once at start; the server's certificate is always verified
// against the host name (or `servername`), so TLS here never means "encrypted but anyone".
import { readFileSync } from "node:fs";
import { isIP, connect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { EvsipError } from "../../errors.js";

/** The jsonrpcc `tls` param. */
export interface JsonRpcTlsParams {
  /** PEM CA bundle the servers' certificates must chain to; default: Node's bundled CAs. */
  readonly caFile?: string;
  /** PEM client certificate, for servers that verify clients (with keyFile). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The name the servers' certificates must carry; default: the host of each server (none for an IP). */
  readonly servername?: string;
}

const KEYS = new Set(["caFile", "certFile", "keyFile", "servername"]);

/** The param check of `tls`. */
export function checkJsonRpcTls(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "must be { caFile?, certFile?, keyFile?, servername? }";
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !KEYS.has(k));
  if (extra !== undefined) return `has an unknown key ${JSON.stringify(extra)}`;
  for (const k of KEYS)
    if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "")) return `${k} must be a non-empty string`;
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) return "certFile and keyFile go together";
  return undefined;
}

/** Reads the files into node:tls options; throws ERR_CONFIG_INVALID naming a file that cannot be read. */
export function loadDialOptions(p: JsonRpcTlsParams): ConnectionOptions {
  const read = (file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new EvsipError("ERR_CONFIG_INVALID", `jsonrpcc.tls: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { ca: read(p.caFile), cert: read(p.certFile), key: read(p.keyFile), servername: p.servername, minVersion: "TLSv1.2" };
}

/** Opens a connection to one server, over TLS when `tls` is given; `ready` is the event that means usable. */
export function dial(host: string, port: number, tls: ConnectionOptions | undefined): { socket: Socket; ready: string } {
  if (!tls) return { socket: connect({ host, port }), ready: "connect" };
  const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
  return { socket: tlsConnect({ ...tls, host, port, servername }), ready: "secureConnect" };
}
