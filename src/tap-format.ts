// How `evsip tap` shows an event: one line (time, event name, compact JSON) or pretty JSON, in
// colour when it writes to a terminal (and NO_COLOR is unset), and which events it shows
// (--subscribe patterns: an exact event name, or a prefix ending in `*`). Pure functions, so the
// format is tested without a terminal.

/** How the tap prints. */
export interface TapFormat {
  readonly pretty: boolean;
  readonly color: boolean;
}

const DIM = "\x1b[2m";
const BOLD_CYAN = "\x1b[1;36m";
const RESET = "\x1b[0m";

/** The event name of a message: the JSON `event` field when it is a string, else "". */
export function eventName(value: unknown): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "";
  const e = (value as Record<string, unknown>).event;
  return typeof e === "string" ? e : "";
}

/** True when `name` matches one of `patterns` (none given: everything). */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
}

/** The text printed for one message (`value` is its parsed JSON, or undefined when it is not JSON). */
export function formatEvent(text: string, value: unknown, at: Date, f: TapFormat): string {
  const time = at.toISOString().slice(11, 23);
  const name = eventName(value) || "-";
  const body = value === undefined ? text : f.pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  if (!f.color) return f.pretty ? `${time} ${name}\n${body}` : `${time} ${name} ${body}`;
  const head = `${DIM}${time}${RESET} ${BOLD_CYAN}${name}${RESET}`;
  return f.pretty ? `${head}\n${body}` : `${head} ${body}`;
}
