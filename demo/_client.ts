/**
 * Demo helper: one real TLS client connection to 127.0.0.1 that offers the
 * session its own TlsClientSessionCache holds, and reports whether it
 * resumed and how long the handshake took.
 *
 * @module
 */

import { connect } from "node:tls";
import type { TlsClientSessionCache, TlsPeer } from "../node.ts";

/** What one connection did. */
export interface Handshake {
  /** Whether the handshake resumed a session. */
  readonly resumed: boolean;
  /** Whether a session was offered. */
  readonly offered: boolean;
  /** Milliseconds from connect() to secureConnect. */
  readonly ms: number;
}

/**
 * Connects, completes the handshake, waits until the server closes, and
 * reports. Rejects after `timeoutMs`.
 */
export function handshake(
  port: number,
  ca: Buffer,
  sessions: TlsClientSessionCache,
  timeoutMs = 5000,
): Promise<Handshake> {
  const peer: TlsPeer = { host: "127.0.0.1", port, servername: "localhost" };
  const offer = sessions.connectOptions(peer);
  return new Promise((done, fail) => {
    const started = performance.now();
    let ms = NaN;
    let resumed = false;
    const socket = connect({ ...peer, ca, ...offer });
    sessions.track(socket, peer);
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`handshake with 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      ms = performance.now() - started;
      resumed = socket.isSessionReused();
    });
    socket.on("data", () => {});
    socket.on("end", () => socket.end());
    socket.once("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      done({ resumed, offered: offer.session !== undefined, ms });
    });
  });
}
