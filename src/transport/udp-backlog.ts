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
    if (this.reads >= LIBUV_UDP_READS_PER_TURN) this.since ??= Date.now();
    else this.since = undefined;
    this.reads = 0;
    this.scheduled = false;
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
