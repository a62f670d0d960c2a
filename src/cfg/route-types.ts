// Kamailio's route types (core/route.h) and the rule its cfg parser applies to them: a module
// function carries a mask of the route blocks it may be used in, and a call in a block whose type
// the mask lacks is refused at load ("Command cannot be used in the block"). evsip keeps the masks
// of the functions it has (function-spec.ts `routes`) and applies the same rule, and also follows
// route(X) calls: a function reached from an onreply_route through route(X) is checked against
// onreply_route too (route-kinds.ts).
import type { RouteBlock } from "./ast.js";

export const REQUEST_ROUTE = 1 << 0;
export const FAILURE_ROUTE = 1 << 1;
export const TM_ONREPLY_ROUTE = 1 << 2;
export const BRANCH_ROUTE = 1 << 3;
export const CORE_ONREPLY_ROUTE = 1 << 7;
export const ONREPLY_ROUTE = TM_ONREPLY_ROUTE | CORE_ONREPLY_ROUTE;
const ONEVENT_ROUTE = 1 << 9;
export const EVENT_ROUTE = REQUEST_ROUTE | ONEVENT_ROUTE;
export const ANY_ROUTE = 0xffffffff;

/**
 * The type Kamailio's parser gives a block: route[X] is parsed as a request route whatever calls
 * it; onreply_route (or onreply_route[0]) is core's, a named one tm's.
 */
export function routeTypeOf(b: Pick<RouteBlock, "kind" | "name">): number {
  switch (b.kind) {
    case "request":
    case "route":
      return REQUEST_ROUTE;
    case "failure":
      return FAILURE_ROUTE;
    case "reply":
      return b.name === undefined || b.name === "0" ? CORE_ONREPLY_ROUTE : TM_ONREPLY_ROUTE;
    case "branch":
      return BRANCH_ROUTE;
    case "event":
      return EVENT_ROUTE;
  }
}

/** Kamailio's sr_cmd_flags_match: every bit of the block type, or any bit for an event route. */
export function allowedIn(mask: number, type: number): boolean {
  return (mask & type) === type || (type === EVENT_ROUTE && (mask & EVENT_ROUTE) !== 0);
}

const NAMES: ReadonlyArray<[number, string]> = [
  [REQUEST_ROUTE, "request_route (and route[X])"],
  [FAILURE_ROUTE, "failure_route"],
  [TM_ONREPLY_ROUTE, "onreply_route[X]"],
  [CORE_ONREPLY_ROUTE, "onreply_route"],
  [BRANCH_ROUTE, "branch_route"],
];

/** The blocks a mask allows, for an error message. */
export function describeMask(mask: number): string {
  return NAMES.filter(([bit]) => (mask & bit) !== 0)
    .map(([, name]) => name)
    .join(", ");
}
