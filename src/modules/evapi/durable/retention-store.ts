// Where a durable consumer's unacknowledged events wait: one log per consumer, a window of frames
// with contiguous ids [firstId..lastId] plus the consumer's ack point. The interface is small so a
// disk journal (disk-retention.ts, the param durableDir) or a shared store can implement it
// (docs/evapi.md "Durable delivery"); without durableDir the logs are in memory (memory-retention.ts). Bounds are not the store's
// business: the consumer (durable-consumer.ts) decides what to drop, so every store behaves alike.

/** The retained events of one durable consumer. Ids start at 1; 0 means "none". */
export interface ConsumerLog {
  /** The consumer's declared name. */
  readonly name: string;
  /** Highest id ever assigned (0 before the first event). */
  readonly lastId: number;
  /** Highest id the consumer acknowledged: everything ≤ it is released. */
  readonly ackedId: number;
  /** Oldest retained id; lastId + 1 when nothing is retained. */
  readonly firstId: number;
  /** Retained events. */
  readonly count: number;
  /** Bytes of the retained frames. */
  readonly bytes: number;
  /** Retains the frame of event `lastId + 1` (the caller builds it, since the id is inside). */
  append(frame: Buffer): void;
  /** The retained frame of `id`, or undefined when released, dropped or not yet assigned. */
  frame(id: number): Buffer | undefined;
  /** Moves the ack point to `id` (never backwards) and releases everything ≤ it. */
  ack(id: number): void;
  /** Drops the oldest retained event (a bound was reached); returns its byte size, 0 if none. */
  dropOldest(): number;
}

/** The set of consumer logs. */
export interface RetentionStore {
  /** The log of `name`, created empty when unknown. */
  open(name: string): ConsumerLog;
  /** The log of `name` if it exists. */
  get(name: string): ConsumerLog | undefined;
  /** Every log, in creation order. */
  logs(): IterableIterator<ConsumerLog>;
  /** Number of logs. */
  readonly size: number;
  /** Makes what was appended and acked durable (a no-op in memory). */
  flush(): Promise<void>;
  /** Flushes and releases files and timers (the module stops). */
  close(): Promise<void>;
}
