// A send queue of whole frames for one peer: a ring buffer (undici's fixed-queue idea) with the
// queued bytes counted, so its owner can bound what a peer that does not read costs (evapi's
// maxQueueBytes, jsonrpcc's maxWriteBuffer). Frames are only ever taken whole, so a partial frame
// never reaches the wire.

const INITIAL_CAPACITY = 16;

/** FIFO of frames with a byte count; grows by doubling, never shrinks below its initial size. */
export class SendQueue {
  /** Bytes of the frames currently queued. */
  bytes = 0;
  private ring: Array<Buffer | undefined>;
  private head = 0;
  private count = 0;

  constructor() {
    this.ring = new Array<Buffer | undefined>(INITIAL_CAPACITY);
  }

  /** Number of frames queued. */
  get length(): number {
    return this.count;
  }

  /** Appends a frame (the same Buffer may sit in many queues; it is never written into). */
  push(frame: Buffer): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) % this.ring.length] = frame;
    this.count++;
    this.bytes += frame.length;
  }

  /** Removes and returns the oldest frame. */
  shift(): Buffer | undefined {
    if (this.count === 0) return undefined;
    const frame = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    if (frame) this.bytes -= frame.length;
    if (this.count === 0) this.head = 0;
    return frame;
  }

  /** Drops everything (client closed). */
  clear(): void {
    this.ring = new Array<Buffer | undefined>(INITIAL_CAPACITY);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }

  private grow(): void {
    const next = new Array<Buffer | undefined>(this.ring.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }
}
