// Waits until sockets are up, for shell steps that start a server in the background and then use it
// (the README tour). Each argument is one condition, in the --listen syntax:
//   udp:IP:PORT              a UDP socket is bound there
//   tcp:IP:PORT              a TCP socket listens there
//   connected:tcp:IP:PORT    a client is connected to that TCP listener (an evapi service, say)
//   connected=N:tcp:IP:PORT  N clients (or more) are connected to it (the tour's second client)
// Reads the kernel's socket tables in /proc/net (Linux) instead of probing, so waiting never sends
// the server a packet or opens a connection it would log. Exits 0 when all hold, 1 after 10 s (or
// WAIT_PORT_TIMEOUT_MS).
import { readFileSync } from "node:fs";

const TCP_STATE = { listening: "0A", connected: "01" };

/** The "IP:PORT" column of /proc/net/{udp,tcp} for IPv4 `ip` and `port` (little-endian hex IP). */
function procAddr(ip, port) {
  const hexIp = ip
    .split(".")
    .map((b) => Number(b).toString(16).padStart(2, "0").toUpperCase())
    .reverse()
    .join("");
  return `${hexIp}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** True when the kernel has `count` `proto` sockets (or more) on `ip:port` (in `state`, for TCP). */
function holds({ proto, ip, port, state, count }) {
  const want = procAddr(ip, port);
  const rows = readFileSync(`/proc/net/${proto}`, "utf8").split("\n").slice(1);
  const found = rows.filter((row) => {
    const cols = row.trim().split(/\s+/);
    return cols[1] === want && (proto === "udp" || cols[3] === state);
  });
  return found.length >= count;
}

function parse(arg) {
  const m = /^(connected(?:=([1-9]\d*))?:)?(udp|tcp):(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(arg);
  if (!m || (m[1] && m[3] !== "tcp")) {
    console.error(
      `wait-port: cannot read "${arg}"; expected udp:IP:PORT, tcp:IP:PORT, connected:tcp:IP:PORT or connected=N:tcp:IP:PORT (IPv4)`,
    );
    process.exit(2);
  }
  const state = m[1] ? TCP_STATE.connected : TCP_STATE.listening;
  // A server's side of each accepted connection is its own row, on the listener's address.
  return { arg, proto: m[3], ip: m[4], port: Number(m[5]), state, count: Number(m[2] ?? 1) };
}

const conditions = process.argv.slice(2).map(parse);
const timeoutMs = Number(process.env.WAIT_PORT_TIMEOUT_MS ?? 10_000);
if (!(timeoutMs >= 0)) {
  console.error(`wait-port: WAIT_PORT_TIMEOUT_MS must be a number of ms, got "${process.env.WAIT_PORT_TIMEOUT_MS}"`);
  process.exit(2);
}
const deadline = Date.now() + timeoutMs;
for (;;) {
  const waiting = conditions.filter((c) => !holds(c));
  if (waiting.length === 0) break;
  if (Date.now() > deadline) {
    console.error(`wait-port: still waiting after ${timeoutMs / 1000} s for ${waiting.map((c) => c.arg).join(", ")}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 50));
}
