// The routing service behind examples/jsonrpc-routing/app.ts: a JSON-RPC 2.0 server over netstrings
// (createJsonRpcServer from evsip/client) whose `route` method maps a called user to a gateway URI.
// Run it with `npx tsx examples/jsonrpc-routing/service.ts`; the tests start it on port 0.
import { pathToFileURL } from "node:url";
import { createJsonRpcServer, JsonRpcMethodError, type JsonRpcServer } from "evsip/client";

/** Starts the service: `gateways` maps a user prefix to a SIP URI; "*" is the default. */
export async function startRoutingService(
  gateways: Readonly<Record<string, string>>,
  port = 9999,
): Promise<{ server: JsonRpcServer; port: number }> {
  const server = createJsonRpcServer({
    port,
    methods: {
      async route(params) {
        const { user } = (params ?? {}) as { user?: string };
        if (!user) throw new JsonRpcMethodError(-32602, "user missing");
        const prefix = Object.keys(gateways)
          .filter((p) => p !== "*" && user.startsWith(p))
          .sort((a, b) => b.length - a.length)[0];
        const gw = gateways[prefix ?? "*"];
        if (!gw) throw new JsonRpcMethodError(404, `no route for ${user}`);
        return gw; // a JSON string: $var(gw) receives it without quotes
      },
    },
  });
  const addr = await server.listen();
  return { server, port: addr.port };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { port } = await startRoutingService({ "+44": "sip:10.0.0.44:5060", "*": "sip:10.0.0.1:5060" });
  console.log(`routing service: JSON-RPC over netstrings on 127.0.0.1:${port}`);
}
