// Correlation of request() replies: a reply is a JSON object whose index/label fields (by default
// `tindex`/`tlabel`, per request configurable) echo a pending request's transaction id. Such a reply
// resolves that request and is consumed: the message-received route does not run for it. Anything
// else (not JSON, no matching id) goes to the route as usual. Kamailio has no such function.
import type { TransactionId } from "../../core/transaction-user.js";
import { SteadyMap } from "../../common/steady-map.js";

/** Names of the fields that carry the transaction index and label. */
export interface CorrelationFields {
  readonly index: string;
  readonly label: string;
}

interface Pending {
  readonly fields: CorrelationFields;
  readonly resolve: (reply: unknown) => void;
}

export class PendingRequests {
  // A SteadyMap: requests churn at the call rate (see common/steady-map.ts).
  private readonly byId = new SteadyMap<string, Pending>();
  // Distinct field pairs in use, with how many pending requests use each (usually one pair).
  private readonly pairs = new Map<string, { fields: CorrelationFields; uses: number }>();

  get size(): number {
    return this.byId.size;
  }

  /** Registers a pending request; returns its key for remove(). */
  add(id: TransactionId, fields: CorrelationFields, resolve: (reply: unknown) => void): string {
    const key = `${id.index}:${id.label}`;
    this.byId.set(key, { fields, resolve });
    const pk = `${fields.index}\0${fields.label}`;
    const pair = this.pairs.get(pk);
    if (pair) pair.uses++;
    else this.pairs.set(pk, { fields, uses: 1 });
    return key;
  }

  /** Forgets a pending request (answered, timed out, failed); a no-op when already gone. */
  remove(key: string): void {
    const p = this.byId.get(key);
    if (!p) return;
    this.byId.delete(key);
    const pk = `${p.fields.index}\0${p.fields.label}`;
    const pair = this.pairs.get(pk);
    if (pair && --pair.uses === 0) this.pairs.delete(pk);
  }

  /** Resolves the request this message answers; true when the message was consumed. */
  intercept(msg: string): boolean {
    if (this.byId.size === 0 || !looksLikeObject(msg)) return false;
    let obj: unknown;
    try {
      obj = JSON.parse(msg);
    } catch {
      return false;
    }
    if (typeof obj !== "object" || obj === null) return false;
    const rec = obj as Record<string, unknown>;
    for (const { fields } of this.pairs.values()) {
      const index = rec[fields.index];
      const label = rec[fields.label];
      if (!isIdPart(index) || !isIdPart(label)) continue;
      const key = `${String(index)}:${String(label)}`;
      const p = this.byId.get(key);
      if (!p || p.fields.index !== fields.index || p.fields.label !== fields.label) continue;
      this.remove(key);
      p.resolve(obj);
      return true;
    }
    return false;
  }
}

function isIdPart(v: unknown): v is string | number {
  return typeof v === "number" || (typeof v === "string" && v !== "");
}

function looksLikeObject(msg: string): boolean {
  for (let i = 0; i < msg.length; i++) {
    const ch = msg.charCodeAt(i);
    if (ch === 0x7b) return true; // '{'
    if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0a && ch !== 0x0d) return false;
  }
  return false;
}
