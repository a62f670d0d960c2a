// Dialog profiles (Kamailio's set_dlg_profile / get_profile_size / is_in_profile): named sets of
// dialogs, counted as a whole or per value. A dialog leaves every profile when it ends, times out or
// fails, so a count never outlives its calls. Membership is also written on the dialog record
// (record.profiles) so it survives with the dialog.
import { ownCopy } from "../../common/own-copy.js";
import { EvsipError } from "../../errors.js";
import type { DialogRecord } from "./api-types.js";

/** "a;b" or ["a", "b"] → ["a", "b"] (Kamailio writes profile lists separated by ';'). */
export function profileNames(given: string | readonly string[]): string[] {
  const list = typeof given === "string" ? given.split(";") : [...given];
  return list.map((s) => s.trim()).filter((s) => s !== "");
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Problems with the two profile params, or []. */
export function checkProfiles(noValue: string | readonly string[], withValue: string | readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const n of [...profileNames(noValue), ...profileNames(withValue)]) {
    if (!NAME.test(n)) out.push(`profile name ${JSON.stringify(n)} is not valid`);
    if (seen.has(n)) out.push(`profile ${n} is declared twice`);
    seen.add(n);
  }
  return out;
}

export class Profiles {
  /** Declared profiles: true when counted per value. */
  private readonly declared = new Map<string, boolean>();
  /** profile → value ("" without value) → dialogs. */
  private readonly members = new Map<string, Map<string, Set<DialogRecord>>>();

  constructor(noValue: readonly string[], withValue: readonly string[]) {
    for (const n of noValue) this.declared.set(n, false);
    for (const n of withValue) this.declared.set(n, true);
    for (const n of this.declared.keys()) this.members.set(n, new Map());
  }

  /** The value a membership is filed under; throws for an unknown profile or a misplaced value. */
  private key(profile: string, value: string | undefined, forCount: boolean): string | undefined {
    const withValue = this.declared.get(profile);
    if (withValue === undefined) {
      throw new EvsipError(
        "ERR_DIALOG_UNKNOWN_PROFILE",
        `dialog: no profile ${profile} (declared: ${[...this.declared.keys()].join(", ")})`,
      );
    }
    if (!withValue) return "";
    if (value === undefined && !forCount) {
      throw new EvsipError("ERR_DIALOG_UNKNOWN_PROFILE", `dialog: profile ${profile} is counted per value: give one`);
    }
    return value;
  }

  add(d: DialogRecord, profile: string, value?: string): boolean {
    const v = ownCopy(this.key(profile, value, false) ?? ""); // kept for the dialog's life
    const byValue = this.members.get(profile);
    if (!byValue) return false;
    let set = byValue.get(v);
    if (!set) byValue.set(v, (set = new Set()));
    if (set.has(d)) return true;
    set.add(d);
    d.profiles.push([profile, v]);
    return true;
  }

  remove(d: DialogRecord, profile: string, value?: string): boolean {
    const v = this.key(profile, value, false) ?? "";
    const i = d.profiles.findIndex(([p, pv]) => p === profile && pv === v);
    if (i < 0) return false;
    d.profiles.splice(i, 1);
    this.drop(d, profile, v);
    return true;
  }

  /** Files a restored dialog under the memberships its record lists; undeclared profiles are dropped. */
  refile(d: DialogRecord): void {
    const kept = d.profiles.filter(([p]) => this.declared.has(p));
    d.profiles.length = 0;
    for (const [p, v] of kept) this.add(d, p, this.declared.get(p) === true ? v : undefined);
  }

  /** Takes the dialog out of every profile (it ended). */
  removeAll(d: DialogRecord): void {
    for (const [p, v] of d.profiles) this.drop(d, p, v);
    d.profiles.length = 0;
  }

  has(d: DialogRecord, profile: string, value?: string): boolean {
    const v = this.key(profile, value, true);
    return d.profiles.some(([p, pv]) => p === profile && (v === undefined || pv === v));
  }

  size(profile: string, value?: string): number {
    const v = this.key(profile, value, true);
    const byValue = this.members.get(profile);
    if (!byValue) return 0;
    if (v !== undefined) return byValue.get(v)?.size ?? 0;
    let n = 0;
    for (const s of byValue.values()) n += s.size;
    return n;
  }

  /** Dialogs per profile, for metrics. */
  sizes(): Map<string, number> {
    return new Map([...this.declared.keys()].map((p) => [p, this.size(p)]));
  }

  private drop(d: DialogRecord, profile: string, v: string): void {
    const byValue = this.members.get(profile);
    const set = byValue?.get(v);
    if (!set) return;
    set.delete(d);
    if (set.size === 0) byValue?.delete(v);
  }
}
