// Routing services in processes of their own, for the tests and benches that kill one with kill -9:
// an evapi consumer (test/fixtures/decision-consumer.ts) and a JSON-RPC service
// (test/fixtures/rpc-service.ts), each deciding "allow" `delay` ms after a request.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { childLines } from "./child-lines.js";

const CONSUMER = fileURLToPath(new URL("../fixtures/decision-consumer.js", import.meta.url));
const SERVICE = fileURLToPath(new URL("../fixtures/rpc-service.js", import.meta.url));

function run(script: string, args: Array<string | number>) {
  const child = spawn(process.execPath, [script, ...args.map(String)], { stdio: ["ignore", "pipe", "pipe"] });
  return { child, ...childLines(child) };
}

/** An evapi consumer connecting to `port`; it prints "connected <label>", then "answered <n>" per answer. */
export function startDecisionConsumer(port: number, delay: number, label: string) {
  return run(CONSUMER, [port, delay, label]);
}

/** A JSON-RPC service, resolved with its port once it listens; it prints "answered <n>" per answer. */
export async function startRpcService(delay: number, label: string) {
  const p = run(SERVICE, [delay, label]);
  const line = await p.logged(/^listening \d+ /);
  return { ...p, port: Number(line.split(" ")[1]) };
}
