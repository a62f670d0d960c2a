// bench/cap-cpu.sh caps the router under test by a CPU cgroup whose cgroup.procs file it passes in
// EVSIP_CGROUP_PROCS. A router is started through a shell that writes its own pid there and then
// execs the router, so it is in the group from its first instruction and Kamailio's workers, forked
// later, inherit it; nothing has to watch for new processes beside the run (a polling loop did, and
// took more of the machine than the router and the tool together: bench/README.md).

/** `[command, args]` to spawn so that the process starts in EVSIP_CGROUP_PROCS's group, when that is set. */
export function inCgroup(command: string, args: readonly string[]): [string, string[]] {
  const procs = process.env.EVSIP_CGROUP_PROCS;
  if (procs === undefined || procs === "") return [command, [...args]];
  // $0 is the procs file; "$@" the command. exec keeps the pid, so the child's pid stays the router's.
  return ["/bin/sh", ["-c", 'echo $$ >"$0" && exec "$@"', procs, command, ...args]];
}
