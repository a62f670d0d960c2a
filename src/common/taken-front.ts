// A queue kept as an array and a head index, so that taking from the front costs nothing: the
// taken front is dropped in one splice once it is most of the array (and at least `min` slots).
// A queue that never empties (TCP read ahead while the router sheds at its ceiling) would
// otherwise keep every slot it ever used; spliced only then, the copying costs O(1) per item taken.

/** The head after taking: `head` as it is, or 0 once the taken front [0, head) was dropped. */
export function dropTakenFront(arr: unknown[], head: number, min: number): number {
  if (head < min || head * 2 < arr.length) return head;
  arr.splice(0, head);
  return 0;
}
