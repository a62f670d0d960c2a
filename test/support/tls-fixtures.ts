// The test certificates in test/fixtures/tls (its README says how they were made): their paths, and
// the server credentials and client trust most TLS tests use.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ConnectionOptions } from "node:tls";

/** The path of test/fixtures/tls/<name>.pem. */
export const pem = (name: string): string => resolve("test/fixtures/tls", `${name}.pem`);
/** The test CA's certificate. */
export const CA = readFileSync(pem("ca-cert"));
/** evapi's `tls` param for the server certificate (CN and SAN localhost, signed by the test CA). */
export const SERVER_TLS = { certFile: pem("server-cert"), keyFile: pem("server-key") };
/** A client that trusts the test CA and checks the name localhost. */
export const TRUST: ConnectionOptions = { ca: CA, servername: "localhost" };
