// ctx.dialog: one small object per route run that uses it, its methods on the prototype (built for
// every call's INVITE, ACK and BYE routes, so no closures per run), reading the module through the
// few functions it needs.
import type { RouteContext } from "../../core/context.js";
import type { ByeSide, DialogApi, DialogEventInfo, DialogRecord } from "./api-types.js";
import { DialogEvent, type Dialogs } from "./dialogs.js";

/** What ctx.dialog needs from the module. */
export interface DialogCore {
  readonly dialogs: Dialogs;
  dialogOf(ctx: RouteContext): DialogRecord | undefined;
  manage(ctx: RouteContext): boolean;
  setVar(d: DialogRecord | undefined, name: string, value: string | null): boolean;
}

export class ContextDialogApi implements DialogApi {
  private readonly core: DialogCore;
  private readonly ctx: RouteContext;

  constructor(core: DialogCore, ctx: RouteContext) {
    this.core = core;
    this.ctx = ctx;
  }

  /** The dialog of this run unless it has ended. */
  private live(): DialogRecord | undefined {
    const d = this.core.dialogOf(this.ctx);
    return d && d.state < 5 ? d : undefined;
  }

  manage(): boolean {
    return this.core.manage(this.ctx);
  }

  get active(): boolean {
    return this.core.dialogOf(this.ctx) !== undefined;
  }

  get current(): Readonly<DialogRecord> | undefined {
    return this.core.dialogOf(this.ctx);
  }

  get event(): DialogEventInfo | undefined {
    return this.ctx.eventData instanceof DialogEvent ? this.ctx.eventData : undefined;
  }

  setTimeout(seconds: number): boolean {
    const d = this.live();
    if (!d || !(seconds > 0)) return false;
    this.core.dialogs.setTimeout(d, seconds);
    return true;
  }

  setProperty(name: "ka-src" | "ka-dst"): boolean {
    const d = this.live();
    if (!d || (name !== "ka-src" && name !== "ka-dst")) return false;
    this.core.dialogs.keepalive(d, name === "ka-src" ? "caller" : "callee");
    return true;
  }

  bye(side: ByeSide = "all"): boolean {
    const d = this.live();
    if (!d || d.state < 3) return false;
    this.core.dialogs.end(d, "local");
    this.core.dialogs.bye(d, side);
    return true;
  }

  setProfile(profile: string, value?: string): boolean {
    const d = this.live();
    if (!d || !this.core.dialogs.profiles.add(d, profile, value)) return false;
    this.core.dialogs.changed(d);
    return true;
  }

  unsetProfile(profile: string, value?: string): boolean {
    const d = this.live();
    if (!d || !this.core.dialogs.profiles.remove(d, profile, value)) return false;
    this.core.dialogs.changed(d);
    return true;
  }

  isInProfile(profile: string, value?: string): boolean {
    const d = this.live();
    return d ? this.core.dialogs.profiles.has(d, profile, value) : false;
  }

  profileSize(profile: string, value?: string): number {
    return this.core.dialogs.profiles.size(profile, value);
  }

  getVar(name: string): string | null {
    return this.core.dialogOf(this.ctx)?.vars[name] ?? null;
  }

  setVar(name: string, value: string | null): boolean {
    return this.core.setVar(this.core.dialogOf(this.ctx), name, value);
  }
}
