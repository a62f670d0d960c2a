// Whether a UDP socket keeps up. libuv reads at most 32 datagrams from a socket per event-loop
// turn, then lets the rest of the loop run; a turn that read that many means more were waiting in
// the kernel. Turn after turn of full reads means a queue that does not drain: callers wait, then
// retransmit. How long that has lasted is the signal admission control sheds new work on (the
// queue's age itself is invisible to a user-space process).
export const LIBUV_UDP_READS_PER_TURN = 32;

export class UdpBacklog {
  private reads = 0;
  private scheduled = false;
  private since: number | undefined;
  private readonly endTurn = (): void => {
    const full = this.reads >= LIBUV_UDP_READS_PER_TURN;
    this.reads = 0;
    if (!full) {
      this.since = undefined;
      this.scheduled = false;
      return;
    }
    this.since ??= Date.now();
    // Look at the next turn too, even if it reads nothing: a burst that ended on a full turn must
    // not leave the socket marked as falling behind.
    setImmediate(this.endTurn);
  };

  /** Called for every datagram read. */
  read(): void {
    this.reads++;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.endTurn); // the check phase: after this turn's reads
  }

  /** How long (ms) the socket has had datagrams waiting at the end of every turn; 0 when it kept up. */
  backlogMs(now = Date.now()): number {
    return this.since === undefined ? 0 : now - this.since;
  }
}
