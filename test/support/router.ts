// Starts an evsip Server in the test process on loopback port 0 and says where it listens.
import { pino, type Logger } from "pino";
import { Server, serverInternals, type ServerInternals } from "../../src/server.js";
import type { AnyAppDefinition } from "../../src/app.js";

export interface RunningRouter {
  readonly server: Server;
  /** The server's layers and modules (stats, a module's bound port), through the internal accessor. */
  readonly internals: ServerInternals;
  readonly udpPort: number;
  readonly tcpPort: number;
  /** "127.0.0.1:<port>" for SIPp, by transport. */
  target(proto: "udp" | "tcp"): string;
  stop(): Promise<void>;
}

/** Starts `app` on udp+tcp 127.0.0.1:0 (unless app.listen says otherwise), silent unless given a logger. */
export async function startRouter(app: AnyAppDefinition, listen?: string[], logger?: Logger): Promise<RunningRouter> {
  // No warm-up (~0.5 s a start) unless the app asks: tests time nothing, and start many routers.
  // Nor overload shedding: the suite runs many routers and peers at once on two cores, where a cold
  // router can fall 100 ms behind a SIPp burst and answer a call the test counts on with a 503 (seen
  // once, in the call-limit test). The overload tests set admission's params themselves.
  const server = new Server(
    {
      ...app,
      sip: { warmUp: 0, warmUpCalls: 0, ...app.sip },
      admission: { shedQueue: 0, shedAfter: 0, ...app.admission },
    },
    {
      listen: listen ?? app.listen?.slice() ?? ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      logger: logger ?? pino({ level: process.env.EVSIP_TEST_LOG ?? "silent" }),
    },
  );
  await server.start();
  const ls = server.listeners();
  const udpPort = ls.find((l) => l.proto === "udp")?.port ?? 0;
  const tcpPort = ls.find((l) => l.proto === "tcp")?.port ?? 0;
  return {
    server,
    internals: serverInternals(server),
    udpPort,
    tcpPort,
    target: (proto) => `127.0.0.1:${proto === "udp" ? udpPort : tcpPort}`,
    stop: () => server.stop(),
  };
}
