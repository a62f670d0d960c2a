// An event consumer in its own process that reads at a fixed pace: once every `everyMs` it takes
// what its socket has buffered (one read from the kernel, at most 64 KB). It sends one netstring
// ("go") once connected, prints "connected", then "done N" when N ≥ `total` bytes arrived or
// "closed N" if the router closed the connection first, and exits.
// Usage: node paced-reader.js PORT TOTAL_BYTES EVERY_MS
import { connect } from "node:net";

const [port = 0, total = 0, everyMs = 10] = process.argv.slice(2).map(Number);
const socket = connect({ port, host: "127.0.0.1" });
let received = 0;
let finished = false;

function finish(word: string): void {
  if (finished) return;
  finished = true;
  clearInterval(pacer);
  process.stdout.write(`${word} ${received}\n`, () => socket.destroy());
}

const pacer = setInterval(() => {
  for (let chunk = socket.read() as Buffer | null; chunk; chunk = socket.read() as Buffer | null) received += chunk.length;
  if (received >= total) finish("done");
}, everyMs);
socket.on("connect", () => {
  socket.write("2:go,");
  process.stdout.write("connected\n");
});
socket.on("close", () => finish("closed"));
socket.on("error", () => undefined);
