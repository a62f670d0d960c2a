// Work put off to the end of the current event-loop turn (the check phase, one setImmediate for
// all of it), in two rounds. Round "peers" is for writes to the processes that do a call's work
// next (evapi consumers, JSON-RPC servers): batching them makes a burst of requests cost one socket
// write instead of one each. Round "after" is for what nobody waits on, such as the 100 Trying of a
// suspended INVITE: on a machine whose cores the router shares with its peers, every datagram
// wakes a process that may take the router's core, so what the peer needs leaves first.

export type TurnRound = "peers" | "after";

/**
 * A round's callbacks. Filled and emptied in place: with one request per turn (even input) a new
 * array per turn was a few hundred bytes per request for the scavenger.
 */
class Round {
  private readonly fns: Array<(() => void) | undefined> = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  push(fn: () => void): void {
    this.fns[this.n++] = fn;
  }

  /** Runs the callbacks queued before the call; one queued meanwhile waits for the next drain. */
  drain(): void {
    const end = this.n;
    for (let i = 0; i < end; i++) {
      const fn = this.fns[i] as () => void;
      this.fns[i] = undefined;
      runOne(fn);
    }
    // What was queued while draining moves to the front (rare: a flush that queues more).
    const rest = this.n - end;
    for (let i = 0; i < rest; i++) {
      this.fns[i] = this.fns[end + i];
      this.fns[end + i] = undefined;
    }
    this.n = rest;
  }
}

const peers = new Round();
const after = new Round();
let scheduled = false;

/** Runs `fn` once at the end of this event-loop turn, in `round` ("peers" before "after"). */
export function atTurnEnd(fn: () => void, round: TurnRound = "peers"): void {
  (round === "peers" ? peers : after).push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runTurnEnd);
}

/**
 * Runs `fn` now, as a turn's end would (in the "peers" round), with the writes it queues: for work
 * that is itself run from a setImmediate at a turn's end, where atTurnEnd would put it off to the
 * turn after next. Inside a pass, it joins that pass.
 */
export function atTurnEndNow(fn: () => void): void {
  peers.push(fn);
  if (!inPass) runTurnEnd();
}

let inPass = false;

function runTurnEnd(): void {
  // Work queued while running (a flush that queues more) runs in the same pass, peers first again:
  // `scheduled` stays set until the rounds are empty, so such work schedules no pass of its own.
  inPass = true;
  scheduled = true;
  while (peers.size > 0 || after.size > 0) {
    if (peers.size > 0) peers.drain();
    else after.drain();
  }
  inPass = false;
  scheduled = false;
}

// One failing callback must not strand the rest of the turn's writes.
function runOne(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
