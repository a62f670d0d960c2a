// The README's second snippet, the transaction held across an `await`, kept compiling by
// `npm test` (examples are type-checked) and matched against the README by test/docs.test.ts.
import { defineApp } from "evsip";

export default defineApp({
  modules: { evapi: { bindAddr: "127.0.0.1:8448" } },
  async request(ctx) {
    const r = await ctx.evapi.request<{ action: string }>({ event: "invite", from: ctx.pv("$fu") }, { timeout: 2000 });
    if (r.action === "allow") ctx.tm.relay();
    else ctx.tm.reply(403, "Forbidden");
  },
});
