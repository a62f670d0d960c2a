// kill -9 of a child process, resolved once it has exited (a no-op for one already gone): the fault
// tests' way of killing a real peer, and what they wait on before counting what was lost.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
