// A peer in its own process that reads at a fixed pace: once every `everyMs` it takes what its
// socket has buffered (one read from the kernel, at most 64 KB). As an event consumer (the default)
// it connects to PORT, sends one netstring ("go") and prints "connected". As a JSON-RPC server
// ("serve") it listens on PORT (0: any), prints "listening P", and paces the first connection it
// accepts. Either way it then prints "done N" when N ≥ `total` bytes arrived or "closed N" if the
// router closed the connection first, and exits.
// Usage: node paced-reader.js PORT TOTAL_BYTES EVERY_MS [connect|serve]
import { connect, createServer, type Socket } from "node:net";

const [port = 0, total = 0, everyMs = 10] = process.argv.slice(2, 5).map(Number);
const serve = process.argv[5] === "serve";
let received = 0;
let finished = false;
let pacer: NodeJS.Timeout | undefined;

function pace(socket: Socket): void {
  const finish = (word: string): void => {
    if (finished) return;
    finished = true;
    clearInterval(pacer);
    process.stdout.write(`${word} ${received}\n`, () => {
      socket.destroy();
      process.exit(0);
    });
  };
  pacer = setInterval(() => {
    for (let chunk = socket.read() as Buffer | null; chunk; chunk = socket.read() as Buffer | null) received += chunk.length;
    if (received >= total) finish("done");
  }, everyMs);
  socket.on("close", () => finish("closed"));
  socket.on("error", () => undefined);
}

if (serve) {
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    server.close();
    pace(socket);
  });
  server.listen(port, "127.0.0.1", () => {
    const addr = server.address();
    process.stdout.write(`listening ${typeof addr === "object" && addr ? addr.port : port}\n`);
  });
} else {
  const socket = connect({ port, host: "127.0.0.1" });
  socket.on("connect", () => {
    socket.write("2:go,");
    process.stdout.write("connected\n");
  });
  pace(socket);
}
