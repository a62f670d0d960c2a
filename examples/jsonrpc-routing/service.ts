// The routing service behind examples/jsonrpc-routing/app.ts: a JSON-RPC 2.0 server over netstrings
// (createJsonRpcServer from evsip/client) whose `route` method maps a called user to a gateway URI.
// Run it with `node dist/examples/jsonrpc-routing/service.js [+44 gateway] [default gateway]`
// (SIP URIs; a SIPp UAS on loopback, say); the tests start it on port 0 with their own table.
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
  const [uk = "sip:10.0.0.44:5060", other = "sip:10.0.0.1:5060"] = process.argv.slice(2);
  const { port } = await startRoutingService({ "+44": uk, "*": other });
  console.log(`routing service: JSON-RPC over netstrings on 127.0.0.1:${port}`);
}
