// ctx.exit() and ctx.drop() end the whole script, as Kamailio's `exit` and `drop`. They unwind the
// route's call stack with a sentinel object (not an Error: no stack capture cost) that the route
// runner catches; user code that catches everything can re-throw it with isRouteExit().

/** Thrown by ctx.exit()/ctx.drop(); caught by the route runner. */
export class RouteExit {
  readonly drop: boolean;

  constructor(drop: boolean) {
    this.drop = drop;
  }
}

const EXIT = new RouteExit(false);
const DROP = new RouteExit(true);

export function exitRoute(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, not an error
  throw EXIT;
}

export function dropRoute(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, not an error
  throw DROP;
}

/** True for the sentinel thrown by ctx.exit()/ctx.drop(). */
export function isRouteExit(e: unknown): e is RouteExit {
  return e instanceof RouteExit;
}
