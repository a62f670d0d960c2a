// The hello app: answers OPTIONS, forwards everything else statelessly to $du or the Request-URI,
// and logs every request the Kamailio way. `npm start` runs it.
import { defineApp } from "evsip";

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  request(ctx) {
    ctx.xlog("L_INFO", "$rm from $fu ($si:$sp/$pr) to $ru");
    if (!ctx.maxfwd.process(10)) {
      ctx.sl.sendReply(483, "Too Many Hops");
      return;
    }
    if (ctx.isMethod("OPTIONS") && ctx.pv("$rU") === null) {
      ctx.sl.sendReply(200, "OK");
      return;
    }
    ctx.forward();
  },
  events: {
    "core:worker-one-init"(ctx) {
      ctx.xlog("hello app started");
    },
  },
});
