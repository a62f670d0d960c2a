// Typed builders of evsip's decision message (src/modules/evapi/README.md "Decisions"): the answer
// about a suspended call that the router's ctx.evapi.decide() applies in one call. Return one from
// an answer() handler (tindex/tlabel are copied from the event), or send it with client.decide().
// Plain objects: a Kamailio script that parses the answer itself can read them too.

/** Values the router sets before acting: `$var(name)` and `$dlg_var(name)`. */
export type DecisionVars = Readonly<Record<string, string | number>>;

/** What every decision may carry besides its action. */
export interface DecisionExtras {
  /** Header lines added to what the router sends: the relayed request (allow) or the reply. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** `$var(name)` values (an allow route reads them). */
  readonly vars?: DecisionVars;
  /** `$dlg_var(name)` values (the router needs the dialog module). */
  readonly dlgVars?: DecisionVars;
}

/** A decision message (JSON on the wire). */
export type Decision = DecisionExtras &
  (
    | { readonly action: "allow" }
    | { readonly action: "reject"; readonly code: number; readonly reason?: string }
    | { readonly action: "drop" }
    | {
        readonly action: "redirect";
        readonly contact: string | readonly string[];
        readonly code?: number;
        readonly reason?: string;
      }
  );

/**
 * Builders of decisions.
 * @example
 * client.answer((ev) => (isFraud(ev) ? decision.reject(403, "Forbidden") : decision.allow({ vars: { plan: "gold" } })));
 */
export const decision = {
  /** Let the call through (the router relays it, or runs the allow route its script names). */
  allow: (extras: DecisionExtras = {}): Decision => ({ action: "allow", ...extras }),
  /** Answer the call with `code` (400-699) and `reason`. */
  reject: (code: number, reason?: string, extras: DecisionExtras = {}): Decision => ({
    action: "reject",
    code,
    ...(reason === undefined ? {} : { reason }),
    ...extras,
  }),
  /** Send nothing at all: the router forgets the call (a scanner gets no answer). */
  drop: (): Decision => ({ action: "drop" }),
  /** Answer 302 (or `code` 300-399) with these Contact URIs. */
  redirect: (
    contact: string | readonly string[],
    extras: DecisionExtras & { code?: number; reason?: string } = {},
  ): Decision => ({
    action: "redirect",
    contact,
    ...extras,
  }),
} as const;
