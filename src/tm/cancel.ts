// CANCEL for an INVITE server transaction (RFC 3261 §9.2, §16.10): the CANCEL gets its own
// transaction and a 200, pending branches are cancelled (§9.1: once they have a provisional), and
// with no pending branch (nothing relayed, or suspended) the INVITE gets 487 at once (Kamailio t_fwd.c).
import type { SipMessageLike } from "../sip/types.js";
import { hookFailed, type TmContext } from "./context.js";
import { serverKey } from "./match-key.js";
import { replyLocal, requestCancel } from "./reply.js";
import type { ServerTransaction } from "./server-transaction.js";
import { endSuspension } from "./suspend.js";
import { TransactionError } from "../errors.js";
import type { TmSource } from "./types.js";

/** Creates a server transaction without the maxTransactions check (CANCELs must always get through). */
export type CreateUnchecked = (msg: SipMessageLike, src: TmSource, key: string | undefined) => ServerTransaction;

/**
 * A new CANCEL: "absorbed" when it matched an INVITE transaction (answered here), "new" when it
 * matched none (core forwards it statelessly or answers 481).
 */
export function handleCancel(
  ctx: TmContext,
  msg: SipMessageLike,
  src: TmSource,
  key: string | undefined,
  create: CreateUnchecked,
): "absorbed" | "new" {
  const inviteKey = serverKey(msg, "INVITE");
  const invite = inviteKey === undefined ? undefined : ctx.table.findServer(inviteKey);
  if (invite === undefined || invite.isTerminated) return "new";
  const cst = create(msg, src, key);
  // The 200 to the CANCEL carries the To tag of the INVITE's responses (§9.2).
  replyLocal(ctx, cst, 200, "OK", msg.to.tag === undefined ? { toTag: invite.toTag } : undefined);
  cancelInvite(ctx, invite, msg);
  return "absorbed";
}

/** Cancels an INVITE transaction that has no final response yet. */
export function cancelInvite(ctx: TmContext, st: ServerTransaction, cancel: SipMessageLike): void {
  if (st.isFinal || st.isCancelled || st.isTerminated || !st.isInvite) return;
  st.isCancelled = true;
  ctx.stats.cancelled++;
  try {
    ctx.callbacks.onCancel?.(st, cancel);
  } catch (e) {
    hookFailed(ctx, e, "onCancel hook", st);
  }
  if (st.suspension !== undefined) {
    st.cancelledWhileSuspended = st.suspension.settle === undefined;
    endSuspension(ctx, st, new TransactionError("ERR_TM_CANCELLED", "tm: transaction cancelled"));
  }
  let pending = false;
  for (const b of st.branches) {
    if (!b.isPending) continue;
    pending = true;
    requestCancel(ctx, b);
  }
  if (!pending) replyLocal(ctx, st, 487, "Request Terminated");
}
