// The service behind `ctx.jsonrpc.request` / Kamailio's `jsonrpc_request`, in ten lines:
// run it (`node dist/examples/client/jsonrpc-service.js`) and point jsonrpcc's `servers` at it.
import { createJsonRpcServer, JsonRpcMethodError } from "evsip/client";

const server = createJsonRpcServer({
  port: 9999,
  methods: {
    async route(params) {
      const { user } = params as { user?: string };
      if (!user) throw new JsonRpcMethodError(-32602, "user missing");
      return { gateway: user.startsWith("+44") ? "gw-uk" : "gw-default" };
    },
  },
});
const { host, port } = await server.listen();
console.log(`JSON-RPC over netstrings on ${host}:${port}`);
