// Removes dist/ (and the client package's dist/) before a build, so a test file deleted from test/
// cannot keep running from a stale compiled copy (run-tests.mjs runs every dist/test/**/*.test.js).
import { rmSync } from "node:fs";
for (const dir of ["dist", "packages/client/dist"]) rmSync(dir, { recursive: true, force: true });
