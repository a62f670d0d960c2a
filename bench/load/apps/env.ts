// The load tool passes the ports of an app's peers (evapi bind address, JSON-RPC service, UAS) to
// the evsip child process in environment variables; an app file reads them when it loads.
export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set (this app is started by bench/load.ts)`);
  return v;
}
