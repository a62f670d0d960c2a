// TLS on the event socket (README.md "TLS") with node:tls clients: events over TLS, with and without
// tokens; client-certificate verification; a reload (SIGHUP) that new connections see while
// connected clients keep going; and the failures: a plaintext or silent client, a missing or
// untrusted client certificate, unreadable files at start and at reload. Fixtures: test/fixtures/tls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { startEvapi, TestClient, withEvapi } from "../../support/evapi-harness.js";
import { pem, SERVER_TLS as TLS, TRUST } from "../../support/tls-fixtures.js";

const TOKEN = "tls-token-0123456789abcdef";
const netstring = (s: string): string => `${Buffer.byteLength(s)}:${s},`;

/** A TLS connection the router is expected to refuse: resolves when it is closed (a handshake error is fine too). */
async function refusedTls(port: number, options: ConnectionOptions): Promise<void> {
  const s = tlsConnect({ port, host: "127.0.0.1", ...options });
  s.on("error", () => undefined);
  s.resume();
  await once(s, "close", { signal: AbortSignal.timeout(5000) });
}

const serial = (c: TestClient): string => (c.socket as TLSSocket).getPeerCertificate().serialNumber;

test("tls: events flow over TLS; a plaintext client fails the handshake (ERR_EVAPI_TLS_HANDSHAKE) and is never admitted", async () => {
  await withEvapi({ tls: TLS }, async (h) => {
    const c = await TestClient.openTls(h.port, TRUST);
    await h.connections.wait(1);
    assert.equal(h.ctx("event").evapi.relay({ event: "over-tls" }), 1);
    await c.waitFrames(1);
    assert.deepEqual(c.frames, ['{"event":"over-tls"}']);
    const plain = await TestClient.open(h.port);
    plain.send(netstring('{"event":"hello"}'));
    await plain.waitClosed();
    assert.equal(plain.frames.length, 0);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TLS_HANDSHAKE"), 1);
    assert.equal(h.connections.items.length, 1);
    c.destroy();
  });
});

test("tls: a silent TCP client is closed at authTimeout and counts against maxUnauthenticated while it waits", async () => {
  await withEvapi({ tls: TLS, authTimeout: 100, maxUnauthenticated: 1 }, async (h) => {
    const silent = await TestClient.open(h.port);
    const extra = await TestClient.open(h.port);
    await extra.waitClosed();
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TOO_MANY_UNAUTHENTICATED"), 1);
    await silent.waitClosed();
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_AUTH_TIMEOUT"), 1);
  });
});

test("tls: tokens over TLS", async () => {
  await withEvapi({ tls: TLS, tokens: [{ token: TOKEN, name: "svc" }] }, async (h) => {
    const c = await TestClient.openTls(h.port, TRUST);
    c.send(netstring(JSON.stringify({ evsip: "auth", token: TOKEN })));
    await c.waitFrames(1);
    assert.deepEqual(JSON.parse(c.frames[0] ?? ""), { evsip: "authenticated", name: "svc", tag: "" });
    await h.connections.wait(1);
    c.destroy();
  });
});

test("tls: verifyClient admits a certificate from caFile and refuses none or another CA's (ERR_EVAPI_TLS_CLIENT_CERT)", async () => {
  await withEvapi({ tls: { ...TLS, caFile: pem("ca-cert"), verifyClient: true } }, async (h) => {
    const good = await TestClient.openTls(h.port, {
      ...TRUST,
      cert: readFileSync(pem("client-cert")),
      key: readFileSync(pem("client-key")),
    });
    await h.connections.wait(1);
    await refusedTls(h.port, TRUST);
    await refusedTls(h.port, {
      ...TRUST,
      cert: readFileSync(pem("rogue-client-cert")),
      key: readFileSync(pem("rogue-client-key")),
    });
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TLS_CLIENT_CERT"), 2);
    assert.equal(h.connections.items.length, 1);
    assert.equal(h.ctx("event").evapi.relay({ ok: 1 }), 1);
    await good.waitFrames(1);
    good.destroy();
  });
});

test("tls: SIGHUP reloads the certificate for new connections; connected clients keep theirs; a failed reload keeps the old one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-tls-"));
  try {
    const files = { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") };
    copyFileSync(pem("server-cert"), files.certFile);
    copyFileSync(pem("server-key"), files.keyFile);
    await withEvapi({ tls: files }, async (h) => {
      const before = await TestClient.openTls(h.port, TRUST);
      const oldSerial = serial(before);
      copyFileSync(pem("server2-cert"), files.certFile);
      copyFileSync(pem("server2-key"), files.keyFile);
      const hup = once(process, "SIGHUP"); // runs after evapi's own listener, registered first
      process.kill(process.pid, "SIGHUP");
      await hup;
      const after = await TestClient.openTls(h.port, TRUST);
      assert.notEqual(serial(after), oldSerial, "new connections get the new certificate");
      await h.connections.wait(2);
      assert.equal(h.ctx("event").evapi.relay({ n: 1 }), 2, "the older connection is still there");
      await before.waitFrames(1);
      writeFileSync(files.keyFile, "not a key");
      assert.equal(h.mod.service.reloadTls(), false);
      assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TLS_CREDENTIALS"), 1);
      const still = await TestClient.openTls(h.port, TRUST);
      assert.equal(serial(still), serial(after));
      for (const c of [before, after, still]) c.destroy();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tls: unreadable files refuse the start with ERR_EVAPI_TLS_CREDENTIALS naming the file", async () => {
  await assert.rejects(
    startEvapi({ tls: { certFile: "/nonexistent/cert.pem", keyFile: pem("server-key") } }),
    (e: Error & { code?: string }) => e.code === "ERR_EVAPI_TLS_CREDENTIALS" && e.message.includes("/nonexistent/cert.pem"),
  );
});
