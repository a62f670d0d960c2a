// Work put off to the end of the current event-loop turn (the check phase, one setImmediate for
// all of it), in two rounds. Round "peers" is for writes to the processes that do a call's work
// next (evapi consumers, JSON-RPC servers): batching them makes a burst of requests cost one socket
// write instead of one each. Round "after" is for what nobody waits on, such as the 100 Trying of a
// suspended INVITE: on a machine whose cores the router shares with its peers, every datagram
// wakes a process that may take the router's core, so what the peer needs leaves first.

export type TurnRound = "peers" | "after";

let peers: Array<() => void> = [];
let after: Array<() => void> = [];
let scheduled = false;

/** Runs `fn` once at the end of this event-loop turn, in `round` ("peers" before "after"). */
export function atTurnEnd(fn: () => void, round: TurnRound = "peers"): void {
  (round === "peers" ? peers : after).push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runTurnEnd);
}

function runTurnEnd(): void {
  scheduled = false;
  // Work queued while running (a flush that queues more) runs in the same pass, peers first again.
  while (peers.length > 0 || after.length > 0) {
    const round = peers.length > 0 ? peers : after;
    if (round === peers) peers = [];
    else after = [];
    for (const fn of round) runOne(fn);
  }
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
