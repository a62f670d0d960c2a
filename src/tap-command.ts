// `evsip tap`: connects to a running router's event socket with evsip-client and prints every event
// as it arrives (tap-format.ts), so an operator can watch calls flow without writing a client.
// It is an evapi client that declares itself a listener: it takes a `maxClients` slot and relays
// reach it, but async relays and request()s do not count it as a client that could answer. The token comes from --token or, so that it
// stays out of `ps`, from EVSIP_EVAPI_TOKEN. --subscribe is sent to the router as an event
// subscription, so other events never reach the tap and async relays of them do not count it; the
// same patterns also filter here, for a router that refuses them (or Kamailio, which has none).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EvapiClient, type ClientError } from "./client/index.js";
import { parseHostPort } from "./common/host-port.js";
import { eventName, formatEvent, matchesAny, type TapFormat } from "./tap-format.js";

export const TAP_HELP = `evsip tap [--addr HOST:PORT] [--token TOKEN] [--subscribe NAME|PREFIX* ...] [--pretty]
          [--tls] [--ca FILE] [--servername NAME] [--raw [--delimiter D]] [--no-color]
  Prints the events of a running router's event socket, one line each (--pretty: indented JSON).
  --addr       the event socket (default 127.0.0.1:8448)
  --token      evsip auth token (default: $EVSIP_EVAPI_TOKEN)
  --subscribe  show only these event names (the JSON "event" field); "call:*" is a prefix
  --tls        connect over TLS; --ca: the CA file of the router's certificate
`;

/** Runs the tap until SIGINT/SIGTERM; resolves with the exit code. */
export async function tap(argv: readonly string[]): Promise<number> {
  let o: ReturnType<typeof readOptions>;
  try {
    o = readOptions(argv);
  } catch (err) {
    console.error(`evsip tap: ${(err as Error).message}\n\n${TAP_HELP}`);
    return 2;
  }
  const fmt: TapFormat = { pretty: o.pretty, color: o.color };
  const client = new EvapiClient({
    host: o.host,
    port: o.port,
    token: o.token,
    tls: o.tls,
    framing: o.raw ? "raw" : "netstring",
    rawDelimiter: o.delimiter,
    maxMessageSize: 16 * 1024 * 1024,
    listenOnly: true, // it never answers: async relays must not wait for it
    ...(o.subscribe.length > 0 && { events: o.subscribe }),
    reconnect: { initialDelay: 200, maxDelay: 5000 },
  });
  client.on("message", (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!matchesAny(eventName(value), o.subscribe)) return;
    process.stdout.write(`${formatEvent(text, value, new Date(), fmt)}\n`);
  });
  client.on("connected", () => console.error(`evsip tap: connected to ${o.addr}`));
  client.on("subscribedEvents", (names) => console.error(`evsip tap: subscribed to ${names.join(" ")}`));
  client.on("disconnected", ({ reason }) => console.error(`evsip tap: disconnected (${reason?.code ?? "closed by the router"})`));
  client.on("error", (e: ClientError) => console.error(`evsip tap: ${e.code} ${e.message}`));
  client.on("parseError", () => undefined); // a non-JSON message is printed as text
  // Silence while no router answers would look like a tap waiting for events.
  client.on("reconnecting", ({ delay, reason }) =>
    console.error(`evsip tap: no connection to ${o.addr} (${reason?.message ?? "closed"}); trying again in ${delay} ms`),
  );
  let stopping = false;
  const stop = new Promise<number>((resolve) => {
    const end = (): void => {
      stopping = true;
      void client.close().then(() => resolve(0));
    };
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
  });
  const never = new Promise<number>(() => undefined);
  const failed = client.connect().then(
    () => never,
    (e: ClientError) => {
      if (stopping) return never; // a connect the stop cut short is not a failure
      console.error(`evsip tap: ${e.code} ${e.message}`);
      return 1;
    },
  );
  return Promise.race([stop, failed]);
}

function readOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      addr: { type: "string", default: "127.0.0.1:8448" },
      token: { type: "string" },
      subscribe: { type: "string", multiple: true, default: [] },
      pretty: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      ca: { type: "string" },
      servername: { type: "string" },
      raw: { type: "boolean", default: false },
      delimiter: { type: "string" },
      "no-color": { type: "boolean", default: false },
    },
    strict: true,
  });
  const r = parseHostPort(values.addr, { defaultPort: 8448 });
  if (!r.ok) throw new Error(`--addr ${JSON.stringify(values.addr)}: ${r.detail}`);
  const tls = values.tls || values.ca !== undefined;
  const ca = values.ca === undefined ? undefined : readFileSync(values.ca);
  return {
    addr: values.addr,
    host: r.addr.host,
    port: r.addr.port,
    token: values.token ?? process.env.EVSIP_EVAPI_TOKEN,
    subscribe: values.subscribe,
    pretty: values.pretty,
    tls: tls ? { ca, servername: values.servername } : undefined,
    raw: values.raw,
    delimiter: values.delimiter?.replace(/\\n/g, "\n"),
    color: !values["no-color"] && process.stdout.isTTY && process.env.NO_COLOR === undefined,
  };
}
