// `evsip run file.cfg`: a Kamailio cfg read, checked and translated into an AppDefinition, the
// same object a TypeScript app exports, so the server runs it on the same engine. Nothing is
// ignored silently: what evsip cannot run is a CfgError naming file:line:col, and what it leaves
// out on purpose (children=, memlog=…) is a note the CLI prints.
import { readFileSync } from "node:fs";
import { EvsipError } from "../errors.js";
import type { AnyAppDefinition } from "../app.js";
import { pvCheckRegistry } from "../app-pv-check.js";
import { parseCfg } from "./parser.js";
import { mapCfgParams } from "./cfg-params.js";
import { compileRoutes } from "./compile.js";

export interface LoadedCfg {
  readonly app: AnyAppDefinition;
  /** What the cfg says that evsip ignores on purpose, one line each with file:line. */
  readonly notes: readonly string[];
}

/**
 * Translates cfg text. `defines` are Kamailio's `-A NAME=value` (the value as cfg text, so a
 * string keeps its quotes). Throws CfgError (ERR_CFG_SYNTAX, ERR_CFG_UNSUPPORTED, ERR_PV_*).
 */
export function loadCfgText(src: string, file: string, defines: ReadonlyMap<string, string> = new Map()): LoadedCfg {
  const skipped: string[] = [];
  const cfg = parseCfg(src, file, new Map(defines), skipped);
  const p = mapCfgParams(cfg);
  const { pvs, fmt } = pvCheckRegistry(Object.keys(p.modules));
  const r = compileRoutes(cfg, { file, loaded: p.loaded, pvs, fmt, maxWhileLoops: p.maxWhileLoops });
  const app: AnyAppDefinition = {
    ...(p.listen && { listen: p.listen }),
    ...(p.logLevel && { logLevel: p.logLevel }),
    ...(Object.keys(p.tm).length > 0 && { tm: p.tm }),
    modules: p.modules,
    ...(r.request && { request: r.request }),
    ...(r.reply && { reply: r.reply }),
    routes: r.routes,
    events: r.events,
  };
  return { app, notes: [...skipped, ...p.notes] };
}

/** Reads and translates a cfg file; an unreadable file is ERR_APP_LOAD. */
export function loadCfgFile(file: string, defines?: ReadonlyMap<string, string>): LoadedCfg {
  let src: string;
  try {
    src = readFileSync(file, "utf8");
  } catch (err) {
    throw new EvsipError("ERR_APP_LOAD", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return loadCfgText(src, file, defines);
}
