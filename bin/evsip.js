#!/usr/bin/env node
import { main } from "../dist/src/cli.js";
import { ERROR_CODES } from "../dist/src/errors.js";
const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
    // A router that has stopped leaves at once. Left to wind down, it would close its signal
    // handlers on the way out, and a signal still arriving then (the copy of a Ctrl-C that npm
    // forwards a few ms later) would kill it by that signal instead of letting it exit 0.
    if (argv[0] === "run") process.exit();
  },
  (err) => {
    // evsip's own errors carry a stable code (docs/errors.md): printed with the message.
    const code = ERROR_CODES.includes(err?.code) ? ` [${err.code}]` : "";
    console.error(err instanceof Error ? `${err.message}${code}` : err);
    process.exitCode = 1;
  },
);
