// bench/cap-cpu.sh caps the router under test by a CPU cgroup. It used to move the routers into the
// group from a shell loop that ran pgrep, cat and tr over the tool's descendants twenty times a
// second. That loop took a sizeable share of the machine beside the tool and the router it was
// measuring. Now the group's cgroup.procs file comes in EVSIP_CGROUP_PROCS, and a router is started
// through a shell that writes its own pid there and then execs the router: the process is in the
// group from its first instruction, and Kamailio's workers, forked later, inherit it.

/** `[command, args]` to spawn so that the process starts in EVSIP_CGROUP_PROCS's group, when that is set. */
export function inCgroup(command: string, args: readonly string[]): [string, string[]] {
  const procs = process.env.EVSIP_CGROUP_PROCS;
  if (procs === undefined || procs === "") return [command, [...args]];
  // $0 is the procs file; "$@" the command. exec keeps the pid, so the child's pid stays the router's.
  return ["/bin/sh", ["-c", 'echo $$ >"$0" && exec "$@"', procs, command, ...args]];
}
