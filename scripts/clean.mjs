// Removes dist/ before a build, so a test file deleted from test/ cannot keep running from a stale
// compiled copy (run-tests.mjs runs every dist/test/**/*.test.js).
import { rmSync } from "node:fs";
rmSync("dist", { recursive: true, force: true });
