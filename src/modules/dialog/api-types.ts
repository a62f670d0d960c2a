// The shape of ctx.dialog (Kamailio dialog: dlg_manage, dlg_bye, dlg_set_timeout, dlg_set_property,
// the profile functions), of a dialog as it is kept (a plain, serialisable record), and of the
// module's params, apart from the implementation.

/**
 * Kamailio's dialog states, by the numbers `$dlg(state)` shows: 1 unconfirmed (INVITE seen),
 * 2 early (a provisional with a To-tag), 3 confirmed by a 2xx (waiting for the ACK), 4 confirmed
 * (ACK seen), 5 terminated.
 */
export type DialogStateNumber = 1 | 2 | 3 | 4 | 5;

/** The state names metrics and logs use, by DialogStateNumber. */
export const STATE_NAMES = ["", "unconfirmed", "early", "confirmed", "confirmed", "terminated"] as const;

/** Why a dialog ended (dialog:end) or failed (dialog:failed). */
export type DialogEndReason = "bye" | "timeout" | "keepalive" | "local" | "failed" | "early-timeout";

/** One side of a dialog, as the router needs it to send requests towards that side. */
export interface DialogSide {
  /** The side's Contact value as received (its remote target); the URI is taken when a request is sent. */
  contact: string;
  /** Highest CSeq this side used, and the base of ours towards the other side. */
  cseq: number;
  /** The route set towards this side, top first. */
  routeSet: string[];
  /** Keepalive OPTIONS are sent to this side (Kamailio's ka-src / ka-dst property). */
  keepalive: boolean;
  /** Keepalives in a row that got 408 or 481. */
  kaFailures: number;
}

/**
 * A dialog as kept: only plain data (strings, numbers, arrays, plain objects), so a persistence
 * layer can write it as JSON and a restart can rebuild the timers from `expiresAt` and `nextKaAt`.
 */
export interface DialogRecord {
  /** Kamailio's hash entry (bucket of the Call-ID) and id within it. */
  hEntry: number;
  hId: number;
  callId: string;
  fromUri: string;
  toUri: string;
  fromTag: string;
  /** "" until a provisional or the 2xx gives one. */
  toTag: string;
  /** The caller's From value and the callee's To value (tags included), for requests we send. */
  fromHeader: string;
  toHeader: string;
  /** CSeq number of the initial INVITE. */
  inviteCseq: number;
  state: DialogStateNumber;
  /** Epoch ms of dlg_manage. */
  createdAt: number;
  /** Epoch seconds of the 2xx (`$dlg(start_ts)`); 0 before. */
  startTs: number;
  /** Lifetime in seconds once confirmed (`$dlg(timeout)`). */
  timeout: number;
  /** Epoch ms when the dialog times out (the early timeout before the 2xx); 0 = never. */
  expiresAt: number;
  /** Epoch ms of the next keepalive; 0 = none. */
  nextKaAt: number;
  caller: DialogSide;
  callee: DialogSide;
  /** `$dlg_var(name)` values. */
  vars: Record<string, string>;
  /** Profile memberships: [profile, value] ("" for a profile without value). */
  profiles: Array<[string, string]>;
}

/** What a dialog:start, dialog:end or dialog:failed route gets (ctx.dialog.event). */
export interface DialogEventInfo {
  readonly dialog: Readonly<DialogRecord>;
  /** For dialog:end and dialog:failed: why. */
  readonly reason: DialogEndReason | undefined;
  /** For dialog:failed: the final status sent upstream (408 for a timeout). */
  readonly status: number | undefined;
}

/** Params of the dialog module. */
export interface DialogParams {
  /** Seconds a confirmed dialog lives without a BYE (Kamailio `default_timeout`, 43200). Fractions allowed. */
  defaultTimeout: number;
  /** Seconds an unconfirmed or early dialog may wait for its 2xx (Kamailio `early_timeout`, 300). */
  earlyTimeout: number;
  /** On timeout, send BYE to both sides (Kamailio `send_bye`). */
  sendBye: boolean;
  /** Seconds between keepalive rounds (Kamailio `ka_timer`); 0 disables keepalives. Fractions allowed. */
  kaTimer: number;
  /** Seconds between the keepalives of one dialog (Kamailio `ka_interval`); 0 = every round. */
  kaInterval: number;
  /** Keepalives in a row answered 408/481 (or timed out) before the dialog ends (Kamailio `ka_failed_limit`). */
  kaFailedLimit: number;
  /** Profiles counted without a value (Kamailio `profiles_no_value`), "a;b" or an array. */
  profilesNoValue: string | string[];
  /** Profiles counted per value (Kamailio `profiles_with_value`). */
  profilesWithValue: string | string[];
  /** Live dialogs; past it dlg_manage refuses (ERR_DIALOG_LIMIT). */
  maxDialogs: number;
  /** Bytes of `$dlg_var` names and values one dialog may hold (ERR_DIALOG_VAR_TOO_LARGE past it). */
  maxVarBytes: number;
  /**
   * Directory of the dialog journal: live dialogs (vars, profiles, timers) survive a crash or
   * `kill -9` and are restored at start. Unset (the default): memory only.
   */
  dialogDir: string | undefined;
  /**
   * Milliseconds between fdatasync of the journal (0 = never, left to the OS). Every change is
   * written before the next event-loop turn, so a `kill -9` loses nothing written; a power loss
   * may lose the changes of the last interval.
   */
  dialogSyncInterval: number;
}

/** Which side(s) dlg_bye sends to. */
export type ByeSide = "caller" | "callee" | "all";

/** ctx.dialog. Unknown profile names throw EvsipError ERR_DIALOG_UNKNOWN_PROFILE. */
export interface DialogApi {
  /**
   * dlg_manage: tracks the dialog of this initial INVITE (request route). True when tracked (a
   * spiral of a tracked INVITE counts as tracked); false for anything else or at `maxDialogs`.
   * @example if (ctx.isMethod("INVITE") && !ctx.hasToTag()) ctx.dialog.manage();
   */
  manage(): boolean;
  /** True when this route run belongs to a tracked dialog (`$dlg(...)` is defined). */
  readonly active: boolean;
  /** The dialog of this route run (read-only view), if any. */
  readonly current: Readonly<DialogRecord> | undefined;
  /** In a dialog:* event route: the dialog, the reason and the failure status. */
  readonly event: DialogEventInfo | undefined;
  /** dlg_set_timeout: the dialog's lifetime in seconds, from now when confirmed (else from its 2xx). */
  setTimeout(seconds: number): boolean;
  /** dlg_set_property: "ka-src" / "ka-dst" turn keepalives on for the caller / callee side. */
  setProperty(name: "ka-src" | "ka-dst"): boolean;
  /** dlg_bye: BYE to one or both sides of a confirmed dialog, which ends (dialog:end, reason local). */
  bye(side?: ByeSide): boolean;
  /** set_dlg_profile: adds the dialog to a profile (a value only for profiles with value). */
  setProfile(profile: string, value?: string): boolean;
  /** unset_dlg_profile: removes the dialog from a profile. */
  unsetProfile(profile: string, value?: string): boolean;
  /** is_in_profile: without a value, any value of a profile with value counts. */
  isInProfile(profile: string, value?: string): boolean;
  /** get_profile_size: dialogs in the profile (with that value, or in all values). */
  profileSize(profile: string, value?: string): number;
  /** `$dlg_var(name)`; null when unset or without a dialog. */
  getVar(name: string): string | null;
  /** `$dlg_var(name) = value`; null deletes. False without a dialog or past maxVarBytes. */
  setVar(name: string, value: string | null): boolean;
}
