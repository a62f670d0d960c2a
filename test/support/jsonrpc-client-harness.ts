// Builds a JsonRpcClient for tests (short reconnect delays, silent logger) and waits for its
// servers to connect by their "up" events, never by sleeping.
import { once } from "node:events";
import { pino } from "pino";
import { JsonRpcClient, parseServers, type JsonRpcClientOptions } from "../../src/modules/jsonrpcc/index.js";

export const silent = pino({ level: "silent" });

/** A client for `servers` ("127.0.0.1:PORT,1 …"), started. */
export function makeClient(servers: string, over: Partial<JsonRpcClientOptions> = {}): JsonRpcClient {
  const parsed = parseServers(servers);
  if (!parsed.ok) throw new Error(parsed.detail);
  const c = new JsonRpcClient({
    servers: parsed.servers,
    timeout: 500,
    maxPending: 10_000,
    maxMessageSize: 1024 * 1024,
    maxConnAttempts: -1,
    reconnectBase: 10,
    reconnectMax: 50,
    connectTimeout: 2000,
    maxWriteBuffer: 64 * 1024 * 1024,
    stallTimeout: 5000,
    logger: silent,
    ...over,
  });
  c.start();
  return c;
}

/** Resolves when every link named in `addresses` (default all) is connected. */
export async function waitUp(client: JsonRpcClient, addresses?: readonly string[]): Promise<void> {
  const want = (l: { address: string }) => addresses === undefined || addresses.includes(l.address);
  const signal = AbortSignal.timeout(10_000);
  while (!client.links.filter(want).every((l) => l.state === "connected")) await once(client.events, "up", { signal });
}

/** Resolves when the link at `address` has gone down (not connected). */
export async function waitDown(client: JsonRpcClient, address: string): Promise<void> {
  const signal = AbortSignal.timeout(10_000);
  const link = client.links.find((l) => l.address === address);
  if (!link) throw new Error(`no link ${address}`);
  while (link.state === "connected") await once(client.events, "down", { signal });
}
