// JSON-RPC 2.0 request handling for createJsonRpcServer: parse one message, validate it, call the
// method (sync or async), and build the response object (or nothing, for notifications). Never
// rejects: every fault becomes a JSON-RPC error object (spec §5.1 codes).
// Requests as Kamailio's jsonrpcc sends them: {"id":N,"jsonrpc":"2.0","method":M,"params":P}.

/** A JSON-RPC id (null only in error responses to unreadable requests). */
export type JsonRpcId = string | number | null;

/** A method: receives `params` and the call's id/method; its return value is the `result`. */
export type JsonRpcMethod = (params: unknown, call: { id: JsonRpcId | undefined; method: string }) => unknown;

/** The methods a server exposes, by name. */
export type JsonRpcMethods = Readonly<Record<string, JsonRpcMethod>>;

/** Throw this from a method to answer with a chosen JSON-RPC error code, message and data. */
export class JsonRpcMethodError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "JsonRpcMethodError";
    this.code = code;
    this.data = data;
  }
}

/** JSON-RPC 2.0 standard error codes. */
export const JSONRPC_ERRORS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SERVER_ERROR: -32000,
} as const;

type Response = Record<string, unknown>;

function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): Response {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error["data"] = data;
  return { jsonrpc: "2.0", error, id };
}

function thrownToError(id: JsonRpcId, e: unknown): Response {
  if (e instanceof JsonRpcMethodError) return errorResponse(id, e.code, e.message, e.data);
  const message = e instanceof Error ? e.message : String(e);
  return errorResponse(id, JSONRPC_ERRORS.SERVER_ERROR, message);
}

function isId(v: unknown): v is JsonRpcId {
  return typeof v === "string" || typeof v === "number" || v === null;
}

async function callOne(methods: JsonRpcMethods, req: unknown): Promise<Response | undefined> {
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    return errorResponse(null, JSONRPC_ERRORS.INVALID_REQUEST, "Invalid Request");
  }
  const r = req as Record<string, unknown>;
  const hasId = Object.hasOwn(r, "id");
  const id: JsonRpcId = hasId && isId(r["id"]) ? r["id"] : null;
  const method = r["method"];
  if (typeof method !== "string" || (hasId && !isId(r["id"]))) {
    return errorResponse(id, JSONRPC_ERRORS.INVALID_REQUEST, "Invalid Request");
  }
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (typeof fn !== "function") {
    return hasId ? errorResponse(id, JSONRPC_ERRORS.METHOD_NOT_FOUND, `Method not found: ${method}`) : undefined;
  }
  try {
    const result: unknown = await fn(r["params"], { id: hasId ? id : undefined, method });
    // A notification gets no response, whatever happened.
    return hasId ? { jsonrpc: "2.0", result: result === undefined ? null : result, id } : undefined;
  } catch (e) {
    return hasId ? thrownToError(id, e) : undefined;
  }
}

/**
 * Handles one incoming message (a request, a notification or a batch) and returns the serialised
 * response, or undefined when nothing is to be sent back.
 */
export async function dispatchJsonRpc(methods: JsonRpcMethods, text: string): Promise<string | undefined> {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return JSON.stringify(errorResponse(null, JSONRPC_ERRORS.PARSE_ERROR, "Parse error"));
  }
  let out: Response | Response[] | undefined;
  if (Array.isArray(msg)) {
    if (msg.length === 0) out = errorResponse(null, JSONRPC_ERRORS.INVALID_REQUEST, "Invalid Request");
    else {
      const all = await Promise.all(msg.map((m) => callOne(methods, m)));
      const some = all.filter((r): r is Response => r !== undefined);
      out = some.length > 0 ? some : undefined;
    }
  } else out = await callOne(methods, msg);
  if (out === undefined) return undefined;
  try {
    return JSON.stringify(out);
  } catch (e) {
    const id = Array.isArray(out) ? null : ((out["id"] as JsonRpcId | undefined) ?? null);
    return JSON.stringify(errorResponse(id, JSONRPC_ERRORS.INTERNAL_ERROR, `result not serialisable: ${String(e)}`));
  }
}
