// One Kamailio cfg run as a proxy twice, by a real Kamailio and by evsip's cfg loader, between the
// same two scripted peers (a UAC and a UAS SipPeer), so a test can compare what each side sees on
// the wire. The cfg gets UAS_URI (the UAS peer's address, as a cfg string) as a define, and must
// answer an OPTIONS with Max-Forwards: 0 (Kamailio's readiness probe).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./sipp.js";
import { startKamailio } from "./kamailio.js";
import { retryWhenPortTaken } from "./port-owner.js";
import { startRouter } from "./router.js";
import { SipPeer } from "./sip-peer.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";

export type ProxyKind = "kamailio" | "evsip";

/** What a scenario gets: the peers and the proxy's UDP port on 127.0.0.1. */
export interface WirePeers {
  readonly uac: SipPeer;
  readonly uas: SipPeer;
  readonly port: number;
}

/** Runs `scenario` against `cfg` under `kind`; returns what the scenario returned. */
export async function onProxy<T>(kind: ProxyKind, cfg: string, scenario: (p: WirePeers) => Promise<T>): Promise<T> {
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const defines = { UAS_URI: `"sip:${uas.hostport}"` };
  try {
    if (kind === "evsip") {
      const { app } = loadCfgText(cfg, "wire.cfg", new Map(Object.entries(defines)));
      const r = await startRouter(app, ["udp:127.0.0.1:0"]);
      try {
        return await scenario({ uac, uas, port: r.udpPort });
      } finally {
        await r.stop();
      }
    }
    const dir = mkdtempSync(join(tmpdir(), "evsip-cfg-wire-"));
    try {
      writeFileSync(join(dir, "wire.cfg"), cfg);
      const k = await retryWhenPortTaken(async () => startKamailio(join(dir, "wire.cfg"), await freePort(), defines), 3);
      try {
        return await scenario({ uac, uas, port: k.port });
      } catch (err) {
        throw new Error(`${(err as Error).message}\nkamailio log:\n${k.log().slice(-4000)}`, { cause: err });
      } finally {
        await k.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    uac.close();
    uas.close();
  }
}
