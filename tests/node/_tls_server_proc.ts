/**
 * Three node:tls servers in one Node process, for the client-cache tests on
 * every runtime (Deno and Bun servers never fire the session events):
 *
 * - `tls12id`: TLS 1.2, no tickets, sessions in a SessionCache through
 *   attachSessionCache (resumption by session id);
 * - `tls12ticket`: TLS 1.2 with session tickets;
 * - `tls13`: TLS 1.3 (tickets).
 *
 * Run as `node --import tsx tests/_tls_server_proc.ts`. Prints
 * `{"ports":{...}}` once all listen, then `{"kind":"tls12id","reused":true}`
 * for every handshake. Ends each connection right after the handshake.
 * Exits when stdin closes (and after 60 s in any case).
 *
 * @module
 */

import { constants } from "node:crypto";
import process from "node:process";
import { createServer, type TlsOptions } from "node:tls";
import { attachSessionCache } from "../../node.ts";
import { SessionCache } from "../../mod.ts";
import { CERT, close, KEY, listen } from "./_tls.ts";

const kinds: Record<string, TlsOptions> = {
  tls12id: { maxVersion: "TLSv1.2", secureOptions: constants.SSL_OP_NO_TICKET },
  tls12ticket: { maxVersion: "TLSv1.2" },
  tls13: { minVersion: "TLSv1.3" },
};

const servers = Object.entries(kinds).map(([kind, options]) => {
  const server = createServer({
    key: KEY,
    cert: CERT,
    sessionIdContext: "client-tests",
    ...options,
  });
  if (kind === "tls12id") attachSessionCache(server, new SessionCache({ timeout: 300 }));
  server.on("secureConnection", (socket) => {
    process.stdout.write(JSON.stringify({ kind, reused: socket.isSessionReused() }) + "\n");
    socket.on("error", () => {});
    socket.end("bye"); // writing makes OpenSSL send its TLS 1.3 tickets first
  });
  server.on("tlsClientError", () => {});
  return { kind, server };
});

const ports: Record<string, number> = {};
for (const { kind, server } of servers) ports[kind] = await listen(server);
process.stdout.write(JSON.stringify({ ports }) + "\n");

const stop = async () => {
  await Promise.all(servers.map(({ server }) => close(server)));
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
setTimeout(stop, 60_000).unref();
