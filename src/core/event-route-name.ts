// Event-route names follow Kamailio's `group:event` rule (cfg.lex EVENT_RT_NAME): a letter, then
// letters, digits and '-', then one or more ':'-separated parts where '_' is also allowed.
// Validated once at app load so a typo fails loudly instead of never firing.
const EVENT_RT_NAME = /^[a-zA-Z][0-9a-zA-Z-]*(:[a-zA-Z][0-9a-zA-Z_-]*)+$/;

/** True when `name` is a valid Kamailio event-route name. */
export function isEventRouteName(name: string): boolean {
  return EVENT_RT_NAME.test(name);
}
