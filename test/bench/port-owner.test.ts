// Port ownership (test/support/port-owner.ts): which process holds a UDP port or listens on a TCP
// one, read from /proc, and a router started on a port another process holds (its SIP port, its
// evapi port) fails with PortTakenError, which the load tool's start (retryWhenPortTaken) tries
// again on fresh ports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { benchFile } from "../../bench/support/sipp-macro.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import {
  clashInLog,
  connectedTo,
  exitedAtStart,
  holdsPort,
  PortTakenError,
  retryWhenPortTaken,
  waitOwnSocket,
} from "../support/port-owner.js";
import { freePort, unassignedSpan } from "../support/sipp.js";
import { waitFor } from "../support/wait-for.js";

const offLinux = process.platform === "linux" ? false : "reads /proc (Linux)";

/** A UDP socket on a free port that answers every datagram with a SIP 200, as another test's server would. */
async function squatter(): Promise<Socket> {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  s.on("message", (m, from) => {
    const via = /^Via:.*$/im.exec(m.toString("latin1"))?.[0] ?? "";
    s.send(`SIP/2.0 200 OK\r\n${via}\r\nContent-Length: 0\r\n\r\n`, from.port, from.address);
  });
  return s;
}

/** A node child running `script`, which prints one line once it is set up (the port it took). */
async function childReporting(script: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const [data] = (await once(child.stdout, "data")) as [Buffer];
  return { child, line: data.toString().trim() };
}

/** A process that holds no socket, for "another process" (killed by the caller). */
function bystander(): ChildProcess {
  return spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
}

test(
  "holdsPort: the process that bound the port (or its parent) holds it, another process does not",
  { skip: offLinux },
  async () => {
    const { child, line } = await childReporting(
      "const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>console.log(s.address().port))",
    );
    try {
      const port = Number(line);
      assert.equal(holdsPort(child.pid ?? 0, "udp", port), true, "the child bound it");
      assert.equal(holdsPort(process.pid, "udp", port), true, "its parent holds it through the child (Kamailio's workers)");
      const other = bystander();
      assert.equal(holdsPort(other.pid ?? 0, "udp", port), false, "another process did not");
      other.kill("SIGKILL");
      await once(other, "exit");
      const own = await squatter();
      const ownPort = own.address().port;
      assert.equal(holdsPort(process.pid, "udp", ownPort), true, "this process bound its own");
      own.close();
      await once(own, "close");
      assert.equal(holdsPort(process.pid, "udp", ownPort), false, "closed, nobody holds it");
    } finally {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  },
);

test(
  "a router started on a port another process answers SIP on fails with PortTakenError; retried, it starts on a fresh one",
  { skip: offLinux || kamailioSkipReason(["tm", "rr"]) },
  async () => {
    const taken = await squatter();
    const cfg = benchFile("kamailio/relay.cfg");
    const defines = { UAS_URI: '"sip:127.0.0.1:5999"' };
    try {
      await assert.rejects(startKamailio(cfg, taken.address().port, defines, { shmMb: 64 }), PortTakenError);
      const ports = [taken.address().port, await freePort()];
      let tries = 0;
      const k = await retryWhenPortTaken(() => startKamailio(cfg, ports[tries++] ?? 0, defines, { shmMb: 64 }), 3);
      try {
        assert.equal(tries, 2, "the taken port, then the free one");
        assert.equal(k.port, ports[1]);
        assert.equal(holdsPort(k.pid, "udp", k.port), true);
      } finally {
        await k.stop();
      }
    } finally {
      taken.close();
    }
  },
);

test(
  "waitOwnSocket: resolves for the process listening on the TCP port; PortTakenError when another listens there; an exit fails it",
  { skip: offLinux },
  async () => {
    const { child: listener, line } = await childReporting(
      "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    );
    const other = bystander();
    try {
      const port = Number(line);
      const never = new Promise<never>(() => undefined);
      await waitOwnSocket("listener", listener.pid ?? 0, "tcp", port, never, () => "");
      await assert.rejects(
        waitOwnSocket("bystander", other.pid ?? 0, "tcp", port, never, () => ""),
        PortTakenError,
      );
      const quitter = spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: "ignore" });
      const gone = once(quitter, "exit");
      const free = await freePort();
      await assert.rejects(
        waitOwnSocket("quitter", quitter.pid ?? 0, "tcp", free, gone, () => "Error: Cannot find module"),
        (e) => {
          assert.ok(!(e instanceof PortTakenError), "an exit for another reason is not retried");
          assert.match(String(e), /quitter exited at start/);
          return true;
        },
      );
    } finally {
      listener.kill("SIGKILL");
      other.kill("SIGKILL");
      await Promise.all([once(listener, "exit"), once(other, "exit")]);
    }
  },
);

test(
  "Kamailio whose evapi port another process listens on fails its start with PortTakenError, so the load tool tries fresh ports",
  { skip: offLinux || kamailioSkipReason(["evapi", "tm", "tmx", "jansson"]) },
  async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    const evapiPort = (taken.address() as AddressInfo).port;
    const bindFailed = new RegExp(`cannot bind to local address and port \\[127\\.0\\.0\\.1:${evapiPort}\\]`);
    let log = "";
    try {
      const start = async (): Promise<void> => {
        // Its evapi process fails to bind and Kamailio stops (or hangs), before or after its SIP port answers.
        const k = await startKamailio(benchFile("kamailio/evapi.cfg"), await freePort(), {
          EVAPI_ADDR: `"127.0.0.1:${evapiPort}"`,
        }).catch((e: unknown) => {
          log = String(e); // exitedAtStart's message carries the log
          throw e;
        });
        try {
          await waitOwnSocket("kamailio", k.pid, "tcp", evapiPort, k.exited, () => k.log());
        } finally {
          try {
            // Seen as another process's listener first: Kamailio's own failure is still to come.
            await waitFor(() => bindFailed.test(k.log()), 10_000, { every: 20, what: "Kamailio's evapi bind error" });
          } finally {
            log = k.log();
            await k.stop();
          }
        }
      };
      await assert.rejects(start(), PortTakenError);
      assert.match(log, bindFailed, "Kamailio itself failed on the port");
      // Told the port, startKamailio makes the same check itself.
      const defines = { EVAPI_ADDR: `"127.0.0.1:${evapiPort}"` };
      await assert.rejects(
        startKamailio(benchFile("kamailio/evapi.cfg"), await freePort(), defines, { evapiPort }),
        PortTakenError,
      );
    } finally {
      taken.close();
    }
  },
);

test(
  "clashInLog: PortTakenError once the log of a router still running shows a bind failure on a held port; nothing before",
  { skip: offLinux },
  async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    const evapiPort = (taken.address() as AddressInfo).port;
    const sipPort = await freePort();
    let log = " 0(1) INFO: <core> [main.c:1]: starting\n";
    const watching = new AbortController();
    try {
      // The watcher's own reads of the log are what is waited for: three looks, and still watching.
      let reads = 0;
      let settled = false;
      const watched = clashInLog(
        "kamailio",
        sipPort,
        () => {
          reads++;
          return log;
        },
        watching.signal,
      );
      watched.then(
        () => (settled = true),
        () => (settled = true),
      );
      await waitFor(() => reads >= 3, 5000, { what: "three reads of the log by the watcher" });
      assert.equal(settled, false, "no clash in the log yet");
      // What a Kamailio that then hangs in its shutdown (deaf to SIGTERM) last logs.
      log += ` 5(9) ERROR: evapi [evapi_dispatch.c:695]: evapi_run_dispatcher(): cannot bind to local address and port [127.0.0.1:${evapiPort}]\n`;
      await assert.rejects(watched, PortTakenError);
    } finally {
      watching.abort();
      taken.close();
    }
  },
);

test(
  "connectedTo: true for the process with a TCP connection to the port, false for another and after it closes",
  { skip: offLinux },
  async () => {
    const server = createServer((s) => s.on("error", () => undefined)).listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const { child: client } = await childReporting(`require('net').connect(${port},'127.0.0.1',()=>console.log('up'))`);
    try {
      assert.equal(connectedTo(client.pid ?? 0, port), true, "the client connected");
      const other = bystander();
      assert.equal(connectedTo(other.pid ?? 0, port), false, "another process did not");
      other.kill("SIGKILL");
      await once(other, "exit");
    } finally {
      client.kill("SIGKILL");
      await once(client, "exit");
      server.close();
    }
    assert.equal(connectedTo(client.pid ?? 0, port), false, "gone, it holds nothing");
  },
);

const span = unassignedSpan();

test(
  "freePort draws from below the kernel's ephemeral range, a different port each time, free for UDP and TCP",
  { skip: offLinux || (span === undefined ? "the ephemeral range leaves no span below it (freePort asks the kernel)" : false) },
  async () => {
    const [from, below] = span ?? [0, 0];
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    assert.equal(new Set(ports).size, 20, "draws made together differ");
    for (const port of ports) {
      assert.ok(port >= from && port < below, `${port} in [${from}, ${below})`);
      const udp = createSocket("udp4");
      udp.bind(port, "127.0.0.1");
      await once(udp, "listening");
      const tcp = createServer().listen(port, "127.0.0.1");
      await once(tcp, "listening");
      udp.close();
      tcp.close();
    }
  },
);

test(
  "exitedAtStart: a PortTakenError only when another process holds the port now, or one the log says was in use",
  { skip: offLinux },
  async () => {
    const taken = await squatter();
    const port = taken.address().port;
    try {
      const kamailio =
        "ERROR: <core> [core/udp_server.c:402]: udp_init(): bind(4, 0x7f, 16) on 127.0.0.1: Address already in use";
      assert.ok(exitedAtStart("kamailio", port, kamailio) instanceof PortTakenError);
      const evsip = `cannot listen on 127.0.0.1:${port}: EADDRINUSE [ERR_LISTEN_FAILED]`;
      assert.ok(exitedAtStart("evsip", port, evsip) instanceof PortTakenError);
      const tcp = createServer().listen(0, "127.0.0.1");
      await once(tcp, "listening");
      const evapiPort = (tcp.address() as AddressInfo).port;
      const sipPort = await freePort();
      const evsipEvapi = `cannot listen on 127.0.0.1:${evapiPort}: EADDRINUSE [ERR_LISTEN_FAILED]`;
      assert.ok(exitedAtStart("evsip", sipPort, evsipEvapi) instanceof PortTakenError, "evsip's evapi port, named");
      const kamailioEvapi = ` 7(24158) ERROR: evapi [evapi_dispatch.c:695]: evapi_run_dispatcher(): cannot bind to local address and port [127.0.0.1:${evapiPort}]`;
      assert.ok(exitedAtStart("kamailio", sipPort, kamailioEvapi) instanceof PortTakenError, "Kamailio's evapi port, named");
      // A source line number is not a port, even when a port of that number is held.
      const lineNo = ` 0(1) ERROR: <core> [core/udp_server.c:${evapiPort}]: udp_init(): bind(4, 0x7f, 16) on 127.0.0.1: Address already in use`;
      assert.ok(!(exitedAtStart("kamailio", sipPort, lineNo) instanceof PortTakenError), "a line number is not a port");
      tcp.close();
      await once(tcp, "close");
      assert.ok(!(exitedAtStart("kamailio", sipPort, kamailioEvapi) instanceof PortTakenError), "released: not taken now");
      const other = exitedAtStart("evsip", sipPort, "Error: Cannot find module './app.js'");
      assert.ok(!(other instanceof PortTakenError), "another failure is not retried");
      // Its exit can be seen before its last lines are read: a port another process holds is enough.
      assert.ok(exitedAtStart("kamailio", port, "") instanceof PortTakenError, "an empty log, the port held");
    } finally {
      taken.close();
      await once(taken, "close");
    }
    // Nobody holds it now: a clash on another of the router's ports (evapi, say) is not this port's.
    assert.ok(!(exitedAtStart("evsip", port, "cannot listen on 127.0.0.1:9: EADDRINUSE") instanceof PortTakenError));
  },
);
