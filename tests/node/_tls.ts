/**
 * Helpers for the TLS tests: the committed TEST-ONLY certificate and key
 * (tests/fixtures, see its README), starting and closing servers, one client
 * connection that reports what happened, `openssl s_client -reconnect`, and
 * a Node server subprocess for the client tests on Deno and Bun.
 *
 * Every helper is bounded in time: connections and subprocesses have
 * timeouts and are closed or killed when they run out.
 *
 * @module
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { constants } from "node:crypto";
import {
  connect,
  type ConnectionOptions,
  createServer,
  type Server,
  type TlsOptions,
  type TLSSocket,
} from "node:tls";
import { fileURLToPath } from "node:url";
import {
  type AttachedSessionCache,
  attachSessionCache,
  type AttachSessionCacheOptions,
  type TlsClientSessionCache,
  type TlsPeer,
} from "../../node.ts";
import type { SessionCache } from "../../mod.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const ROOT: string = resolve(HERE, "..");

/** TEST-ONLY private key (published on purpose; see tests/fixtures/README.md). */
export const KEY: Buffer = readFileSync(join(HERE, "..", "fixtures", "test_only_key.pem"));
/** TEST-ONLY self-signed certificate for localhost and 127.0.0.1. */
export const CERT: Buffer = readFileSync(join(HERE, "..", "fixtures", "test_only_cert.pem"));

/** Which runtime runs the tests. */
export const RUNTIME: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/**
 * How a client trusts the test certificate. Deno 2.9 resumes sessions only
 * on its default trust path (no custom `ca`): there, the tests connect with
 * `rejectUnauthorized: false` instead (only ever to 127.0.0.1).
 */
export function clientTrust(): ConnectionOptions {
  return RUNTIME === "deno" ? { rejectUnauthorized: false } : { ca: CERT };
}

/** Starts listening on 127.0.0.1 on a random port; resolves to the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolvePort(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

/** Closes a server, dropping any connection still open. */
export function close(server: Server): Promise<void> {
  return new Promise((done) => {
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => done());
  });
}

/** What one client connection saw. */
export interface Connection {
  /** Whether the handshake resumed a session (client side). */
  readonly reused: boolean;
  /** `TLSv1.2` or `TLSv1.3`. */
  readonly protocol: string | null;
  /** The sessions the server sent (`'session'` events). */
  readonly sessions: Buffer[];
  /** Milliseconds from connect to secureConnect. */
  readonly ms: number;
}

/** Options of {@linkcode connectOnce}. */
export interface ConnectOnceOptions {
  /** A session to offer. */
  readonly session?: Buffer | undefined;
  /** A client cache: its `connectOptions` and `track` are used. */
  readonly cache?: TlsClientSessionCache;
  /** Give up after this many milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Extra connect options. */
  readonly tls?: ConnectionOptions;
}

/**
 * Connects once to 127.0.0.1:port (server name localhost), waits for the
 * server to end the connection (servers in these tests end it right after
 * the handshake, so TLS 1.3 tickets have arrived), and reports.
 */
export function connectOnce(port: number, options: ConnectOnceOptions = {}): Promise<Connection> {
  const peer: TlsPeer = { host: "127.0.0.1", port, servername: "localhost" };
  const offered = options.cache?.connectOptions(peer) ??
    (options.session !== undefined ? { session: options.session } : {});
  return new Promise((done, fail) => {
    const started = performance.now();
    let ms = NaN;
    let reused = false;
    let protocol: string | null = null;
    const sessions: Buffer[] = [];
    const socket: TLSSocket = connect({
      ...peer,
      ...clientTrust(),
      ...options.tls,
      ...offered,
    });
    if (options.cache !== undefined) options.cache.track(socket, peer);
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`connection to port ${port} timed out`));
    }, options.timeoutMs ?? 5000);
    socket.on("secureConnect", () => {
      ms = performance.now() - started;
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
    });
    socket.on("session", (s: Buffer) => sessions.push(s));
    socket.on("data", () => {});
    socket.on("end", () => socket.end());
    socket.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      // Deno emits TLS 1.3 tickets while closing: let them land first.
      setTimeout(() => done({ reused, protocol, sessions, ms }), 0);
    });
  });
}

/**
 * Runs `openssl s_client -connect 127.0.0.1:port -tls1_2 -no_ticket
 * -reconnect` (one connection plus five reconnects) and returns the
 * "New, ..." / "Reused, ..." lines.
 */
export function sClientReconnect(port: number): Promise<string[]> {
  return new Promise((done, fail) => {
    const child = execFile(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-no_ticket", "-reconnect"],
      { timeout: 15000 },
      (error, stdout) => {
        const lines = String(stdout).split("\n").filter((l) => /^(New|Reused), /.test(l));
        if (lines.length === 0 && error) fail(error);
        else done(lines);
      },
    );
    child.stdin?.end();
  });
}

/** A Node TLS server subprocess (tests/_tls_server_proc.ts). */
export interface ServerProc {
  /** Ports by server kind: `tls12id`, `tls12ticket`, `tls13`. */
  readonly ports: {
    readonly tls12id: number;
    readonly tls12ticket: number;
    readonly tls13: number;
  };
  /** Server-side `isSessionReused()` of each connection, in order, per kind. */
  readonly reused: Record<string, boolean[]>;
  /** Stops the subprocess. */
  stop(): Promise<void>;
}

/**
 * Starts tests/_tls_server_proc.ts under `node --import tsx` (the session
 * events need Node's own TLS server, whatever runtime runs the tests).
 */
export function startServerProc(timeoutMs = 15000): Promise<ServerProc> {
  return new Promise((done, fail) => {
    const child: ChildProcess = spawn(
      "node",
      ["--import", "tsx", join(HERE, "_tls_server_proc.ts")],
      { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"], env: process.env },
    );
    const reused: Record<string, boolean[]> = {};
    let buffered = "";
    let ready = false;
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error("the TLS server subprocess did not start in time"));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let msg: { ports?: ServerProc["ports"]; kind?: string; reused?: boolean };
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.ports !== undefined && !ready) {
          ready = true;
          clearTimeout(timer);
          const ports = msg.ports;
          done({
            ports,
            reused,
            stop: async () => {
              child.stdin!.end();
              const killer = setTimeout(() => child.kill(), 3000);
              await exited;
              clearTimeout(killer);
            },
          });
        } else if (msg.kind !== undefined) {
          (reused[msg.kind] ??= []).push(msg.reused === true);
        }
      }
    });
  });
}

/**
 * A minimal DER `SSL_SESSION` as OpenSSL's `i2d_SSL_SESSION` lays it out:
 * SEQUENCE { version 1, ssl_version, cipher, session_id, master_key }, enough
 * for the adapters' reader (not for OpenSSL to resume it).
 */
export function sessionDer(sslVersion: number, id: Uint8Array): Uint8Array {
  const v = [(sslVersion >> 16) & 0xff, (sslVersion >> 8) & 0xff, sslVersion & 0xff];
  const body = [
    ...[0x02, 0x01, 0x01],
    ...[0x02, 0x03, ...v],
    ...[0x04, 0x02, 0x13, 0x01],
    ...[0x04, id.length, ...id],
    ...[0x04, 0x02, 0xaa, 0xbb],
  ];
  return new Uint8Array([0x30, body.length, ...body]);
}

/** TLS 1.2 without tickets: resumption by session id, through the cache. */
export function tls12Ids(sessionIdContext: string): TlsOptions {
  return {
    key: KEY,
    cert: CERT,
    maxVersion: "TLSv1.2",
    secureOptions: constants.SSL_OP_NO_TICKET,
    sessionIdContext,
  };
}

/** A listening server with a cache attached, from {@linkcode serveWithCache}. */
export interface ServedCache {
  readonly port: number;
  readonly server: Server;
  readonly attached: AttachedSessionCache;
  /** Server-side `isSessionReused()` of each connection, in order. */
  readonly serverReused: boolean[];
}

/**
 * Starts a node:tls server on 127.0.0.1 with `cache` attached; the server
 * ends each connection right after its handshake. The server is pushed onto
 * `servers`, for the test file to close after each test.
 */
export async function serveWithCache(
  servers: Server[],
  cache: SessionCache,
  options: AttachSessionCacheOptions,
  tls: TlsOptions,
): Promise<ServedCache> {
  const server = createServer(tls);
  const attached = attachSessionCache(server, cache, options);
  const serverReused: boolean[] = [];
  server.on("secureConnection", (socket) => {
    serverReused.push(socket.isSessionReused());
    socket.on("error", () => {});
    socket.end("bye"); // writing makes OpenSSL send its TLS 1.3 tickets first
  });
  server.on("tlsClientError", () => {});
  servers.push(server);
  return { port: await listen(server), server, attached, serverReused };
}
