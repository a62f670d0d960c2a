// Tags (RFC 3261 §19.3) and branch ids (§8.1.1.7, magic cookie z9hG4bK) from crypto randomness.
// One IdGenerator per server instance keeps a pool of random bytes and hex-encodes slices of it,
// so an id costs one small string, not a randomBytes() call.
import { randomBytes, randomFillSync } from "node:crypto";

/** The RFC 3261 branch magic cookie. */
export const BRANCH_COOKIE = "z9hG4bK";

const POOL_SIZE = 4096;

/** Generates tags and branches from a refilled pool of random bytes (not shared between instances). */
export class IdGenerator {
  private readonly pool = Buffer.allocUnsafe(POOL_SIZE);
  private pos = POOL_SIZE;

  private hex(bytes: number): string {
    if (this.pos + bytes > POOL_SIZE) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    const s = this.pool.toString("hex", this.pos, this.pos + bytes);
    this.pos += bytes;
    return s;
  }

  /** A 16-hex-digit tag (64 random bits). */
  generateTag(): string {
    return this.hex(8);
  }

  /** A branch starting with z9hG4bK followed by 96 random bits in hex. */
  generateBranch(): string {
    return BRANCH_COOKIE + this.hex(12);
  }
}

/** A tag without an IdGenerator (one randomBytes call; prefer IdGenerator on hot paths). */
export function generateTag(): string {
  return randomBytes(8).toString("hex");
}

/** A z9hG4bK branch without an IdGenerator (one randomBytes call). */
export function generateBranch(): string {
  return BRANCH_COOKIE + randomBytes(12).toString("hex");
}
