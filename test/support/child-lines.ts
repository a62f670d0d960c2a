// A child process's stdout (or stderr) read as lines, with waits for a line that matches. A wait still pending
// when the child has exited and its output is all read rejects, naming the pattern and the end of the child's stderr (when piped),
// so a crashed child fails its test at once instead of at the test's timeout.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ChildLines {
  /** Every line so far. */
  readonly lines: string[];
  /** The first line so far that matches `re`, else the next one to come. */
  readonly logged: (re: RegExp) => Promise<string>;
  /** The next line to come that matches `re` (lines already read do not count). */
  readonly next: (re: RegExp) => Promise<string>;
}

interface Waiter {
  re: RegExp;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

/** `from`: the stream read as lines (stdout, or stderr for a command that reports there). */
export function childLines(child: ChildProcess, from: "stdout" | "stderr" = "stdout"): ChildLines {
  const lines: string[] = [];
  let waiters: Waiter[] = [];
  let stderr = "";
  let ended: string | undefined;
  if (from === "stdout") {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
  }
  const input = child[from];
  if (!input) throw new Error(`childLines needs the child's ${from} piped`);
  createInterface({ input }).on("line", (l) => {
    lines.push(l);
    const matched = waiters.filter((w) => w.re.test(l));
    waiters = waiters.filter((w) => !matched.includes(w));
    for (const w of matched) w.resolve(l);
  });
  // "close", not "exit": the last lines may still be unread when the process has exited.
  child.once("close", (code, signal) => {
    ended = `exited (${code ?? signal})`;
    for (const w of waiters) w.reject(new Error(`${ended} before a line matched ${w.re}\n${stderr}`));
    waiters = [];
  });
  const next = (re: RegExp): Promise<string> => {
    const p = new Promise<string>((resolve, reject) => {
      if (ended === undefined) waiters.push({ re, resolve, reject });
      else reject(new Error(`${ended} before a line matched ${re}\n${stderr}`));
    });
    p.catch(() => undefined); // a wait nobody awaits any more (the test killed the child) is not an unhandled rejection
    return p;
  };
  const logged = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : next(re);
  };
  return { lines, logged, next };
}
