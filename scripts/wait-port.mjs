// Waits until sockets are up, for shell steps that start a server in the background and then use it
// (the README tour). Each argument is one condition, in the --listen syntax:
//   udp:IP:PORT              a UDP socket is bound there
//   tcp:IP:PORT              a TCP socket listens there
//   connected:tcp:IP:PORT    a client is connected to that TCP listener (an evapi service, say)
// Reads the kernel's socket tables in /proc/net (Linux) instead of probing, so waiting never sends
// the server a packet or opens a connection it would log. Exits 0 when all hold, 1 after 10 s.
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

/** True when the kernel has a `proto` socket on `ip:port` (in `state`, for TCP). */
function holds({ proto, ip, port, state }) {
  const want = procAddr(ip, port);
  const rows = readFileSync(`/proc/net/${proto}`, "utf8").split("\n").slice(1);
  return rows.some((row) => {
    const cols = row.trim().split(/\s+/);
    return cols[1] === want && (proto === "udp" || cols[3] === state);
  });
}

function parse(arg) {
  const m = /^(connected:)?(udp|tcp):(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(arg);
  if (!m || (m[1] && m[2] !== "tcp")) {
    console.error(`wait-port: cannot read "${arg}"; expected udp:IP:PORT, tcp:IP:PORT or connected:tcp:IP:PORT (IPv4)`);
    process.exit(2);
  }
  return { arg, proto: m[2], ip: m[3], port: Number(m[4]), state: m[1] ? TCP_STATE.connected : TCP_STATE.listening };
}

const conditions = process.argv.slice(2).map(parse);
const deadline = Date.now() + 10_000;
for (;;) {
  const waiting = conditions.filter((c) => !holds(c));
  if (waiting.length === 0) break;
  if (Date.now() > deadline) {
    console.error(`wait-port: still waiting after 10 s for ${waiting.map((c) => c.arg).join(", ")}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 50));
}
