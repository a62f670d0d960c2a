// The dialog module's params: Kamailio's names in camelCase, Kamailio's defaults and units
// (seconds), with fractions of a second allowed for the timers so tests need not wait.
import { boolParam, customParam, intParam, stringParam, type ParamSchema, type ParamSpec } from "../../core/params.js";
import type { DialogParams } from "./api-types.js";
import { checkProfiles } from "./profiles.js";

/** Seconds, fractions allowed, in [min, max]. */
function secondsParam(def: number, min: number, max: number, doc: string): ParamSpec<number> {
  return customParam(
    def,
    (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
        ? undefined
        : `must be seconds from ${min} to ${max}, got ${JSON.stringify(v)}`,
    doc,
  );
}

const profileList = (doc: string): ParamSpec<string | string[]> =>
  customParam<string | string[]>(
    [],
    (v) =>
      typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"))
        ? undefined
        : 'must be "a;b" or an array of names',
    doc,
  );

/** Node timers hold at most 2^31-1 ms (24.8 days). */
const MAX_SECONDS = 2_000_000;

export const DIALOG_PARAMS: ParamSchema<DialogParams> = {
  defaultTimeout: secondsParam(43200, 0.01, MAX_SECONDS, "lifetime of a confirmed dialog (s)"),
  earlyTimeout: secondsParam(300, 0.01, MAX_SECONDS, "time an unconfirmed dialog waits for its 2xx (s)"),
  sendBye: boolParam(false, "BYE to both sides when a dialog times out"),
  kaTimer: secondsParam(0, 0, 86400, "keepalive round period (s); 0 = no keepalives"),
  kaInterval: secondsParam(0, 0, 86400, "keepalive period per dialog (s); 0 = every round"),
  kaFailedLimit: intParam(1, 1, 1000, "failed keepalives in a row that end a dialog"),
  profilesNoValue: profileList("profiles counted as a whole"),
  profilesWithValue: profileList("profiles counted per value"),
  maxDialogs: intParam(100_000, 1, 10_000_000, "live dialogs before dlg_manage refuses"),
  maxVarBytes: intParam(8192, 16, 1 << 20, "bytes of $dlg_var names and values per dialog"),
  dialogDir: stringParam<string | undefined>(undefined, "directory of the dialog journal; unset = memory only", /^.+$/),
  dialogSyncInterval: intParam(100, 0, 60_000, "ms between fdatasync of the dialog journal; 0 = never"),
};

/** Profile names must be valid and declared once across both lists. */
export function validateDialogParams(p: DialogParams): Array<[string, string]> {
  return checkProfiles(p.profilesNoValue, p.profilesWithValue).map((m) => ["profiles", m]);
}
