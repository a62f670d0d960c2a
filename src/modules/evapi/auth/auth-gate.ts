// The door of the event socket when it is guarded (README.md "Authentication", "TLS"): connections
// wait here, outside the client table, through their TLS handshake and their auth message, so
// connections that never finish can take no `maxClients` slot and see no event. They count against
// their own small limit (`maxUnauthenticated`) and get one deadline for all of it (`authTimeout`).
// TLS is done here: the TCP listener hands each accepted socket to a tls.Server that never listens
// itself (emit "connection", as Node documents for injecting sockets into a server), so a handshake
// in progress counts against that limit and runs under that deadline too. The tls.Server does
// the client-certificate check; its events find their waiting connection by the peer's address.
// The first message is cut out of the stream with the connection's own reader (createReader) fed
// one byte at a time, so the bytes after it are handed back to the socket (unshift) untouched and
// read by the normal reader once the connection is admitted.
import type { Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { ErrorCode } from "../../../errors.js";
import { RateLimitedLog } from "../../../common/rate-limited-log.js";
import { MAX_CONTROL_BYTES, errorText } from "../durable/control-message.js";
import { createReader, type MessageReader } from "../message-reader.js";
import { endAndLinger, NOTICE_LINGER_MS } from "../../../common/end-socket.js";
import { bump, type EvapiStats } from "../stats.js";
import { authenticatedText, parseAuth } from "./auth-message.js";
import { mayUseTag, type EvapiGrants } from "./grants.js";
import type { TokenTable } from "./token-table.js";
import type { TlsCredentials } from "../tls-credentials.js";

/** What the gate needs from the evapi service. */
export interface GateLink {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  encode(text: string): Buffer;
  /** Takes an admitted socket into a client slot; `hello` is written first, before any event. */
  admit(socket: Socket, admission: Admission): void;
  /** True when a client slot is free (maxClients). */
  hasRoom(): boolean;
}

/** What an admitted connection starts with. */
export interface Admission {
  readonly grants: EvapiGrants | undefined;
  readonly tag: string;
  readonly hello: Buffer | undefined;
}

/** The gate's settings, from the module params. */
export interface GateOptions {
  /** Set when a client must send a token first. */
  readonly tokens: TokenTable | undefined;
  /** Set when the socket speaks TLS. */
  readonly tls: TlsCredentials | undefined;
  readonly timeout: number;
  readonly maxPending: number;
  readonly netstringFormat: boolean;
  readonly rawDelimiter: string | undefined;
}

/** One connection waiting at the gate. */
interface Waiting {
  /** The TCP socket, then the TLSSocket over it once TLS starts. */
  socket: Socket;
  /** True once the TLS handshake is done (or without TLS): a notice can then be sent. */
  secure: boolean;
  readonly peer: string;
  readonly timer: NodeJS.Timeout;
  reader: MessageReader | undefined;
  onData: ((chunk: Buffer) => void) | undefined;
}

export class AuthGate {
  private readonly opts: GateOptions;
  private readonly link: GateLink;
  private readonly log: RateLimitedLog;
  private readonly waiting = new Set<Waiting>();
  /** Waiting connections in their TLS handshake, by peer "address:port". */
  private readonly handshaking = new Map<string, Waiting>();
  private readonly tlsServer: TlsServer | undefined;

  constructor(opts: GateOptions, link: GateLink) {
    this.opts = opts;
    this.link = link;
    this.log = new RateLimitedLog(link.logger);
    this.tlsServer = opts.tls ? this.createTlsServer(opts.tls) : undefined;
  }

  /** Connections waiting at the gate now (the gauge `unauthenticatedPending`). */
  get size(): number {
    return this.waiting.size;
  }

  /** A new TCP connection: waits here until it authenticates, fails, or runs out of time. */
  accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.waiting.size >= this.opts.maxPending) {
      this.count("ERR_EVAPI_TOO_MANY_UNAUTHENTICATED", peer, `maxUnauthenticated (${this.opts.maxPending}) waiting`);
      this.link.stats.connectionsRejected++;
      socket.on("error", () => undefined);
      socket.destroy();
      return;
    }
    const w: Waiting = {
      socket,
      peer,
      timer: setTimeout(
        () => this.fail(w, "ERR_EVAPI_AUTH_TIMEOUT", `no auth within ${this.opts.timeout} ms`),
        this.opts.timeout,
      ).unref(),
      secure: this.opts.tls === undefined,
      reader: undefined,
      onData: undefined,
    };
    this.waiting.add(w);
    socket.on("error", () => undefined);
    socket.once("close", () => this.forget(w));
    if (this.tlsServer) {
      this.handshaking.set(peer, w);
      this.tlsServer.emit("connection", socket);
    } else this.readAuth(w);
  }

  /** Reloads the TLS credentials (false without tls, or when the files cannot be used). */
  reloadTls(): boolean {
    const tls = this.opts.tls;
    if (!tls) return false;
    const ok = tls.reload();
    if (!ok) bump(this.link.stats.errors, "ERR_EVAPI_TLS_CREDENTIALS");
    else this.tlsServer?.setSecureContext(tls.options);
    return ok;
  }

  /** Starts listening for SIGHUP (TLS reload). */
  start(): void {
    this.opts.tls?.watchSighup(() => void this.reloadTls());
  }

  private createTlsServer(tls: TlsCredentials): TlsServer {
    const server = createTlsServer({
      ...tls.options,
      requestCert: tls.verifyClient,
      rejectUnauthorized: false, // checked on "secureConnection", so the refusal is logged and counted with its reason
      handshakeTimeout: this.opts.timeout + 1000, // a backstop: the gate's own deadline (ERR_EVAPI_AUTH_TIMEOUT) comes first
    });
    server.on("secureConnection", (t: TLSSocket) => {
      const w = this.handshaking.get(`${t.remoteAddress}:${t.remotePort}`);
      if (!w) return void t.destroy();
      this.handshaking.delete(w.peer);
      w.socket = t;
      w.secure = true;
      t.on("error", () => undefined);
      if (tls.verifyClient && !t.authorized) {
        return this.fail(w, "ERR_EVAPI_TLS_CLIENT_CERT", String(t.authorizationError ?? "no client certificate"));
      }
      if (this.opts.tokens) this.readAuth(w);
      else this.pass(w, { grants: undefined, tag: "", hello: undefined }, Buffer.alloc(0));
    });
    server.on("tlsClientError", (err: Error & { code?: string }, t: TLSSocket) => {
      const w = this.handshaking.get(`${t.remoteAddress}:${t.remotePort}`);
      if (w) this.fail(w, "ERR_EVAPI_TLS_HANDSHAKE", err.code ?? err.message);
      t.destroy();
    });
    return server;
  }

  /** Closes every waiting connection (the module stops). */
  stop(): void {
    this.opts.tls?.unwatch();
    for (const w of [...this.waiting]) {
      this.forget(w);
      w.socket.destroy();
    }
  }

  private readAuth(w: Waiting): void {
    const o = this.opts;
    let first: Buffer | undefined;
    const reader = createReader({
      netstringFormat: o.netstringFormat,
      rawDelimiter: o.rawDelimiter,
      maxMessageSize: MAX_CONTROL_BYTES,
      onMessage: (payload) => (first ??= Buffer.from(payload)),
      onEmpty: () => undefined,
    });
    w.reader = reader;
    // Raw mode without a delimiter is one message per read (as Kamailio): the whole first read is the auth message.
    const whole = !o.netstringFormat && o.rawDelimiter === undefined;
    w.onData = (chunk: Buffer): void => {
      this.link.stats.bytesReceived += chunk.length;
      for (let i = 0; i < chunk.length; i++) {
        const r = reader.push(whole ? chunk : chunk.subarray(i, i + 1));
        if (!r.ok) return this.fail(w, "ERR_EVAPI_BAD_AUTH", `first message: ${r.code}: ${r.detail}`);
        if (whole) i = chunk.length;
        if (first !== undefined) return this.onAuth(w, first.toString("utf8"), chunk.subarray(i + 1));
      }
    };
    w.socket.on("data", w.onData);
  }

  private onAuth(w: Waiting, msg: string, rest: Buffer): void {
    this.link.stats.messagesReceived++;
    const req = parseAuth(msg);
    if (!req.ok) return this.fail(w, req.code, req.detail);
    const grants = this.opts.tokens?.match(req.token);
    if (!grants) return this.fail(w, "ERR_EVAPI_AUTH_FAILED", "unknown token");
    const tag = req.tag ?? (grants.tags?.length === 1 ? (grants.tags[0] ?? "") : "");
    if (!mayUseTag(grants, tag)) return this.fail(w, "ERR_EVAPI_NOT_ALLOWED", `token ${grants.name} may not use tag ${tag}`);
    this.link.stats.authenticated++;
    this.link.logger.debug({ peer: w.peer, token: grants.name, tag }, "evapi client authenticated");
    this.pass(w, { grants, tag, hello: this.link.encode(authenticatedText(grants.name, tag)) }, rest);
  }

  /** Lets a connection through to the client table; `rest` are bytes read past the auth message. */
  private pass(w: Waiting, admission: Admission, rest: Buffer): void {
    if (!this.link.hasRoom()) {
      // As an unguarded connection past maxClients, but with a notice: this client proved who it is.
      this.link.stats.connectionsRejected++;
      return this.fail(w, "ERR_EVAPI_MAX_CLIENTS", "maxClients reached");
    }
    const s = w.socket;
    this.forget(w);
    // Paused until the service starts reading (after connection-new), as an unguarded socket is.
    s.pause();
    if (rest.length > 0) s.unshift(rest);
    this.link.admit(s, admission);
  }

  /** Refuses a waiting connection: coded notice, logged (rate-limited), counted, closed. */
  private fail(w: Waiting, code: ErrorCode, detail: string): void {
    if (!this.waiting.has(w)) return;
    this.forget(w);
    this.count(code, w.peer, detail);
    const s = w.socket;
    if (s.destroyed) return;
    if (!w.secure) return void s.destroy(); // no channel to send a notice on (w.socket is still the TCP socket)
    endAndLinger(s, NOTICE_LINGER_MS, this.link.encode(errorText(code, detail)));
  }

  private forget(w: Waiting): void {
    if (!this.waiting.delete(w)) return;
    if (this.handshaking.get(w.peer) === w) this.handshaking.delete(w.peer);
    clearTimeout(w.timer);
    w.reader?.destroy();
    if (w.onData) w.socket.off("data", w.onData);
  }

  private count(code: ErrorCode, peer: string, detail: string): void {
    bump(this.link.stats.errors, code);
    this.log.warn(code, "evapi connection refused before admission", { code, peer, detail });
  }
}
