// Time pseudo-variables of Kamailio's pv module: $TS (now), $Ts and $TV(s|u) (the message's time,
// taken at first use and kept for the route run, as Kamailio's msg->tval), $TV(sn|un|Sn|Fn|Sm)
// (now), $time(...) and $utime(...) (broken-down local and UTC time).
import type { RouteContext } from "./context.js";
import type { PvRegistry, PvValue } from "./pv-registry.js";

function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function msgTimeUs(c: RouteContext): number {
  return (c.msgTimeUs ??= nowUs());
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

const TV: Readonly<Record<string, (c: RouteContext) => PvValue>> = {
  s: (c) => Math.floor(msgTimeUs(c) / 1e6),
  u: (c) => msgTimeUs(c) % 1e6,
  sn: () => Math.floor(nowUs() / 1e6),
  un: () => nowUs() % 1e6,
  Sn: () => {
    const us = nowUs();
    return `${Math.floor(us / 1e6)}.${pad(us % 1e6, 6)}`;
  },
  Fn: () => {
    const us = nowUs();
    const d = new Date(us / 1000);
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us % 1e6, 6)}`;
  },
  Sm: () => String(process.hrtime.bigint()),
};

/** Kamailio's $time/$utime fields: mon 1-12, wday 1-7 from Sunday, yday 1-366, year in full. */
function timeField(name: string | undefined, utc: boolean): PvValue {
  const d = new Date();
  const get = {
    sec: () => (utc ? d.getUTCSeconds() : d.getSeconds()),
    min: () => (utc ? d.getUTCMinutes() : d.getMinutes()),
    hour: () => (utc ? d.getUTCHours() : d.getHours()),
    mday: () => (utc ? d.getUTCDate() : d.getDate()),
    mon: () => (utc ? d.getUTCMonth() : d.getMonth()) + 1,
    year: () => (utc ? d.getUTCFullYear() : d.getFullYear()),
    wday: () => (utc ? d.getUTCDay() : d.getDay()) + 1,
    yday: () => {
      const y = utc ? d.getUTCFullYear() : d.getFullYear();
      const start = utc ? Date.UTC(y, 0, 1) : new Date(y, 0, 1).getTime();
      const today = utc ? Date.UTC(y, d.getUTCMonth(), d.getUTCDate()) : new Date(y, d.getMonth(), d.getDate()).getTime();
      return Math.round((today - start) / 86_400_000) + 1;
    },
    isdst: () => (utc ? 0 : isDst(d) ? 1 : 0),
  } as Record<string, () => number>;
  return name !== undefined && get[name] ? get[name]() : null;
}

function isDst(d: Date): boolean {
  const y = d.getFullYear();
  const std = Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
  return d.getTimezoneOffset() < std;
}

const TIME_FIELDS = ["sec", "min", "hour", "mday", "mon", "year", "wday", "yday", "isdst"];

export function registerTimePvs(reg: PvRegistry<RouteContext>): void {
  reg.register("TS", { get: () => Math.floor(Date.now() / 1000) });
  reg.register("Ts", { get: (c) => Math.floor(msgTimeUs(c) / 1e6) });
  reg.register("TV", {
    get: (c, name) => (name !== undefined && TV[name] ? TV[name](c) : null),
    checkArg: (name) => (name !== undefined && TV[name] ? undefined : `$TV takes one of ${Object.keys(TV).join(", ")}`),
  });
  for (const [pv, utc] of [
    ["time", false],
    ["utime", true],
  ] as const) {
    reg.register(pv, {
      get: (_c, name) => timeField(name, utc),
      checkArg: (name) =>
        name !== undefined && TIME_FIELDS.includes(name) ? undefined : `$${pv} takes one of ${TIME_FIELDS.join(", ")}`,
    });
  }
}
