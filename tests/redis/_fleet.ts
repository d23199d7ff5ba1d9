/**
 * Clients for the fleet tests (tests/redis/fleet_test.ts): `openssl
 * s_client` saving and offering a session (`-sess_out` / `-sess_in`), and a
 * node:tls client that measures its handshakes; plus the servers of a fleet
 * (tests/redis/_fleet_proc.ts) and the rotation periods they share.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { Buffer } from "node:buffer";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { constants } from "node:crypto";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { type RunResult, type ServerProcess, startServerProcess } from "./_redis.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const CERT = readFileSync(join(HERE, "..", "fixtures", "test_only_cert.pem"));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Why the s_client tests cannot run here (no `openssl`), or `undefined`.
 * Under CI a missing binary throws, so the suite fails instead of skipping.
 */
export function opensslSkipReason(): string | undefined {
  const probe = spawnSync("openssl", ["version"], { encoding: "utf8", timeout: 5000 });
  if (probe.status === 0) return undefined;
  if (process.env["CI"]) throw new Error("CI: openssl is not installed");
  return "openssl is not installed; s_client tests skipped";
}

/** What one `openssl s_client` connection saw. */
export interface SClientResult {
  /** Its `New, TLSv1.3, ...` or `Reused, TLSv1.3, ...` line. */
  readonly line: string;
  readonly reused: boolean;
  /** `TLSv1.2` or `TLSv1.3`. */
  readonly protocol: string;
}

/** Options of {@link sClient}. */
export interface SClientOptions {
  readonly version: "tls1_2" | "tls1_3";
  /** Offer no ticket extension (TLS 1.2: resume by session id only). */
  readonly noTicket?: boolean;
  /** Save the session (the ticket, for TLS 1.3) to this file; waits until it is written. */
  readonly sessOut?: string;
  /** Offer the session in this file. */
  readonly sessIn?: string;
}

/**
 * One `openssl s_client -connect 127.0.0.1:port` connection. Stdin stays
 * open until the handshake line is out and, with `sessOut`, the session file
 * has been written (TLS 1.3 tickets arrive after the handshake), then closes.
 */
export function sClient(port: number, options: SClientOptions): Promise<SClientResult> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"];
  args.push(`-${options.version}`);
  if (options.noTicket) args.push("-no_ticket");
  if (options.sessOut !== undefined) args.push("-sess_out", options.sessOut);
  if (options.sessIn !== undefined) args.push("-sess_in", options.sessIn);
  const before = options.sessOut !== undefined && existsSync(options.sessOut)
    ? statSync(options.sessOut).mtimeMs
    : -1;
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let result: SClientResult | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      child.stdin.end();
    };
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`s_client ${args.join(" ")}: no handshake within 10 s: ${out}`));
    }, 10_000);
    child.stdout.setEncoding("utf8").on("data", async (chunk: string) => {
      out += chunk;
      if (result !== undefined) return;
      const m = /^(New|Reused), (TLSv[\d.]+), .*$/m.exec(out);
      if (m === null) return;
      result = { line: m[0], reused: m[1] === "Reused", protocol: m[2]! };
      if (options.sessOut !== undefined) {
        // The session file is written when the server's ticket (or session) arrives.
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          if (existsSync(options.sessOut) && statSync(options.sessOut).mtimeMs !== before) break;
          await sleep(10);
        }
        await sleep(30); // both tickets of a full TLS 1.3 handshake: either one resumes
      }
      end();
    });
    child.stderr.on("data", () => {});
    child.on("error", (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.on("close", () => {
      clearTimeout(deadline);
      if (result !== undefined) resolve(result);
      else reject(new Error(`s_client ${args.join(" ")}: no handshake line: ${out}`));
    });
  });
}

/** What one node:tls client handshake saw. */
export interface Handshake {
  readonly reused: boolean;
  readonly protocol: string | null;
  /** The session to offer next time (TLS 1.3: the first ticket), if any arrived. */
  readonly session: Buffer | undefined;
  /** From `connect()` to `secureConnect`, ms. */
  readonly ms: number;
}

/**
 * One node:tls client handshake with 127.0.0.1:`port` offering `session`:
 * TLS 1.3, or TLS 1.2 with or without tickets (`noTicket`: resumption by
 * session id). Waits for the session (ticket) to arrive before closing, at
 * most 1 s.
 */
export function tlsHandshake(
  port: number,
  options: { readonly version: "TLSv1.2" | "TLSv1.3"; readonly noTicket?: boolean },
  session?: Buffer,
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: CERT,
      minVersion: options.version,
      maxVersion: options.version,
      ...(options.noTicket ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
      ...(session === undefined ? {} : { session }),
    });
    let ms = 0;
    let got: Buffer | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      const result = {
        reused: socket.isSessionReused(),
        protocol: socket.getProtocol(),
        session: got ?? (options.version === "TLSv1.2" ? socket.getSession() : undefined),
        ms,
      };
      socket.end();
      resolve(result);
    };
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`handshake with port ${port} did not complete in 5 s`));
    }, 5000);
    socket.once("session", (s: Buffer) => {
      got = s;
      if (ms > 0) finish();
    });
    socket.once("secureConnect", () => {
      ms = performance.now() - started;
      if (got !== undefined || options.version === "TLSv1.2") finish();
      // TLS 1.3: the ticket comes after the handshake (none after a resumption, from OpenSSL).
      else setTimeout(finish, socket.isSessionReused() ? 0 : 1000);
    });
    socket.once("error", (error) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      socket.destroy();
      reject(error);
    });
  });
}

/** One server of a fleet (tests/redis/_fleet_proc.ts). */
export interface FleetServer extends ServerProcess {
  /** Its counters. */
  stats(): Promise<FleetStats>;
}

/** What a fleet server reports. */
export interface FleetStats {
  readonly cache: Record<string, number>;
  readonly store: Record<string, number>;
  readonly rotation: {
    readonly period?: number;
    readonly installs: number;
    readonly failures: number;
  };
  readonly status: "current" | "stale" | "none";
  readonly tickets: Record<string, number>;
  readonly errors: readonly string[];
}

/** The Redis a fleet uses: one server's URL, or a cluster's root nodes. */
export type FleetBackend = { readonly url: string } | { readonly cluster: readonly string[] };

/** Starts a fleet server on `backend` with these environment settings. */
export async function startFleetServer(
  backend: FleetBackend,
  env: Record<string, string>,
): Promise<FleetServer> {
  const proc = await startServerProcess("_fleet_proc.ts", {
    ...("url" in backend
      ? { REDIS_URL: backend.url }
      : { REDIS_CLUSTER: backend.cluster.join(",") }),
    ...env,
  });
  return Object.assign(proc, { stats: () => proc.ask("stats") as Promise<FleetStats> });
}

/** The rotation period index at `nowMs`. */
export function periodAt(rotationMs: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / rotationMs);
}

/**
 * Waits until a period has at least `budgetMs` left and began at least
 * `settleMs` ago (the servers' timers have switched keys), and (unless
 * `anyKey`) until every server reports that period's key installed
 * (bounded); returns its index.
 */
export async function freshPeriod(
  rotationMs: number,
  servers: readonly FleetServer[],
  budgetMs: number,
  options: { readonly settleMs?: number; readonly anyKey?: boolean } = {},
): Promise<number> {
  const settleMs = options.settleMs ?? 150;
  for (;;) {
    const now = Date.now();
    const into = now % rotationMs;
    if (into < settleMs) await sleep(settleMs - into);
    else if (rotationMs - into < budgetMs) await sleep(rotationMs - into + settleMs);
    const index = periodAt(rotationMs);
    if (options.anyKey) return index;
    const until = Date.now() + 1000;
    let stats = await Promise.all(servers.map((s) => s.stats()));
    while (stats.some((s) => s.rotation.period !== index) && Date.now() < until) {
      await sleep(20);
      stats = await Promise.all(servers.map((s) => s.stats()));
    }
    if (periodAt(rotationMs) !== index) continue; // too slow: the next one
    const behind = stats.filter((s) => s.rotation.period !== index);
    if (behind.length > 0) {
      throw new Error(
        `servers without the key of period ${index}: ${
          JSON.stringify(behind.map((s) => s.errors))
        }`,
      );
    }
    return index;
  }
}

/**
 * Runs `steps` within one rotation period (see {@link freshPeriod}); if they
 * ran into the next period after all (a slow machine), runs them again in a
 * fresh one, at most 3 times. Resolves with what `steps` returned and the
 * period index.
 */
export async function inOnePeriod<T>(
  rotationMs: number,
  servers: readonly FleetServer[],
  budgetMs: number,
  steps: () => Promise<T>,
): Promise<{ readonly value: T; readonly period: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const period = await freshPeriod(rotationMs, servers, budgetMs);
    const value = await steps();
    if (periodAt(rotationMs) === period) return { value, period };
  }
  throw new Error(`the steps never fit in one ${rotationMs} ms period`);
}

/** The outcome of {@link crossRounds}: `total` handshakes, of which `attempts` resumption attempts. */
export interface Rounds extends RunResult {
  /** Resumption attempts (one per round that fit in one period). */
  readonly attempts: number;
  /** Rounds run again because they ran into the next period. */
  readonly redone: number;
}

/**
 * `n` rounds of: a full handshake on one server, then a resumption attempt
 * of its session on the other, which never saw it (TLS 1.3 and TLS 1.2
 * tickets: the shared ticket key; TLS 1.2 with `noTicket`: the session from
 * the store). The first server alternates. Each round starts in a period
 * with `budgetMs` left and both servers holding its key; a round that ran
 * into the next period anyway is run again (counted in `redone`).
 */
export async function crossRounds(
  rotationMs: number,
  servers: readonly [FleetServer, FleetServer],
  n: number,
  options: {
    readonly version: "TLSv1.2" | "TLSv1.3";
    readonly noTicket?: boolean;
    /** Do not wait for the servers to hold the period's key (they may keep a stale one). */
    readonly anyKey?: boolean;
  },
  budgetMs = 300,
): Promise<Rounds> {
  const fullMs: number[] = [];
  const resumedMs: number[] = [];
  const errors: string[] = [];
  let reused = 0;
  let failed = 0;
  let redone = 0;
  for (let i = 0; i < n;) {
    const [x, y] = i % 2 === 0 ? servers : [servers[1], servers[0]];
    const period = await freshPeriod(rotationMs, servers, budgetMs, {
      settleMs: 100,
      anyKey: options.anyKey ?? false,
    });
    let first: Handshake;
    let second: Handshake;
    try {
      first = await tlsHandshake(x.port, options);
      second = await tlsHandshake(y.port, options, first.session);
    } catch (error) {
      failed++;
      errors.push(`round ${i}: ${error}`);
      i++;
      continue;
    }
    if (periodAt(rotationMs) !== period) {
      redone++;
      if (redone > n) throw new Error("rounds keep running into the next period");
      continue;
    }
    fullMs.push(first.ms);
    if (second.reused) {
      reused++;
      resumedMs.push(second.ms);
    } else fullMs.push(second.ms);
    i++;
  }
  return { total: 2 * n, attempts: n - failed, reused, failed, redone, fullMs, resumedMs, errors };
}
