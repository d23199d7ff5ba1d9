/**
 * Starts and stops a real `redis-server` for the tests: on 127.0.0.1, on a
 * random free port, without persistence (`--save "" --appendonly no`), as a
 * child process that is killed when the test ends (and, as a last resort, when
 * the test process exits). `kill()` and `restart()` (same port) drive the
 * fault tests.
 *
 * When `redis-server` is not installed, {@link redisSkipReason} says why the
 * Redis tests skip; under CI (`CI` set) {@link startRedis} fails loudly instead.
 *
 * Runs on Deno, Bun and Node (node:child_process, node:net).
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";

/** A redis-server started by a test. */
export interface RedisServer {
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** SIGKILLs the server (a crash: no clean shutdown) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `kill`) and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOPs the server: connections stay open but nothing is answered (a hung Redis). */
  pause(): void;
  /** SIGCONTs a paused server. */
  resume(): void;
  /** Stops the server for good (SIGKILL; nothing is persisted anyway). */
  stop(): Promise<void>;
  /** Sends one raw command and resolves with the raw RESP reply text (for checks outside the client). */
  command(...args: string[]): Promise<string>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** The path of an executable on PATH (or in the environment variable `env`), or undefined. */
function findExecutable(name: string, env: string): string | undefined {
  const fromEnv = process.env[env];
  if (fromEnv) return fromEnv;
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The deadline the tests give every Redis call of a store or ticket source
 * that talks to a real, healthy Redis. The stores' 50 ms default is a
 * production latency budget; a loaded two-core CI machine running three
 * runtimes' suites misses it now and then (a SET that lands but is counted
 * as timed out), and tests that count outcomes must not depend on that.
 * Tests about deadlines set their own `timeoutMs`.
 */
export const HEALTHY_REDIS_TIMEOUT_MS = 2000;

/** The path of `redis-server`, or undefined when it is not on PATH. */
export function findRedisServer(): string | undefined {
  return findExecutable("redis-server", "REDIS_SERVER");
}

/** The path of `redis-cli` (Debian: redis-tools, which redis-server brings), or undefined. */
export function findRedisCli(): string | undefined {
  return findExecutable("redis-cli", "REDIS_CLI");
}

/**
 * Why the Redis tests cannot run here, or `undefined` when they can. Under CI
 * a missing server is not a reason to skip: this throws, so the suite fails.
 */
export function redisSkipReason(): string | undefined {
  const path = findRedisServer();
  if (path !== undefined) {
    const probe = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 5000 });
    if (probe.status === 0) return undefined;
  }
  const reason =
    "redis-server is not installed (apt-get install -y redis-server); Redis tests skipped";
  if (process.env["CI"]) throw new Error(`CI: ${reason.replace("; Redis tests skipped", "")}`);
  return reason;
}

/** A free TCP port on 127.0.0.1 (there is a small race until the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one command over a fresh connection; resolves with the reply text. */
export function rawCommand(port: number, args: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => {
      let out = `*${args.length}\r\n`;
      for (const arg of args) out += `$${new TextEncoder().encode(arg).length}\r\n${arg}\r\n`;
      socket.write(out);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (complete(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Whether a RESP2 reply to a simple command (status, error, integer, bulk) is complete. */
function complete(reply: string): boolean {
  const eol = reply.indexOf("\r\n");
  if (eol < 0) return false;
  if (reply[0] !== "$") return true;
  const len = Number(reply.slice(1, eol));
  return len < 0 || reply.length >= eol + 2 + len + 2;
}

async function waitReady(port: number, child: ChildProcess, deadlineMs = 5000): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server on port ${port} exited early (${child.exitCode ?? child.signalCode})`,
      );
    }
    try {
      if ((await rawCommand(port, ["PING"], 500)).startsWith("+PONG")) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${deadlineMs} ms: ${last}`,
  );
}

function launch(path: string, port: number, extraArgs: readonly string[] = []): ChildProcess {
  const child = spawn(path, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "warning",
    "--dir",
    process.env["TMPDIR"] ?? "/tmp",
    ...extraArgs,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.on("data", () => {});
  live.add(child);
  child.on("exit", () => live.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts redis-server on 127.0.0.1 on a random free port, no persistence.
 * Retries a few ports if one was taken in the meantime.
 *
 * @throws When redis-server is missing or does not come up.
 */
export function startRedis(): Promise<RedisServer> {
  return startRedisWith(() => []);
}

/**
 * Starts redis-server as {@link startRedis} does, with more arguments (made
 * from its port, so that a cluster node gets its own config file); `restart()`
 * uses the same ones.
 */
async function startRedisWith(
  argsFor: (port: number) => readonly string[],
): Promise<RedisServer> {
  const path = findRedisServer();
  if (path === undefined) throw new Error("redis-server is not installed");
  installExitHook();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const extraArgs = argsFor(port);
    let child = launch(path, port, extraArgs);
    try {
      await waitReady(port, child);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      await exited(child);
      continue;
    }
    const server: RedisServer = {
      port,
      url: `redis://127.0.0.1:${port}`,
      get running() {
        return child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        child.kill("SIGKILL");
        await exited(child);
      },
      async restart() {
        await server.kill();
        // The port was ours a moment ago; retry briefly in case the kernel still holds it.
        let error: unknown;
        for (let i = 0; i < 20; i++) {
          child = launch(path, port, extraArgs);
          try {
            await waitReady(port, child);
            return;
          } catch (e) {
            error = e;
            child.kill("SIGKILL");
            await exited(child);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        throw error;
      },
      pause: () => void child.kill("SIGSTOP"),
      resume: () => void child.kill("SIGCONT"),
      stop: () => server.kill(),
      command: (...args: string[]) => rawCommand(port, args),
    };
    return server;
  }
  throw new Error(`could not start redis-server: ${lastError}`);
}

// ---- a Redis Cluster of real redis-server processes ------------------------------------------

/**
 * Why the Redis Cluster tests cannot run here (redis-server or redis-cli
 * missing), or `undefined` when they can. Under CI a missing binary throws,
 * so the suite fails instead of skipping.
 */
export function redisClusterSkipReason(): string | undefined {
  const reason = redisSkipReason();
  if (reason !== undefined) return reason;
  const cli = findRedisCli();
  if (cli !== undefined) {
    const probe = spawnSync(cli, ["--version"], { encoding: "utf8", timeout: 5000 });
    if (probe.status === 0) return undefined;
  }
  const why = "redis-cli is not installed (Debian: apt-get install -y redis-tools)";
  if (process.env["CI"]) throw new Error(`CI: ${why}`);
  return `${why}; Redis Cluster tests skipped`;
}

/** A Redis Cluster of masters (no replicas) on 127.0.0.1, started by a test. */
export interface RedisCluster {
  /** The masters, in the order `redis-cli --cluster create` got them. */
  readonly nodes: readonly RedisServer[];
  /** `{ url }` of every master, for node-redis `createCluster({ rootNodes })`. */
  readonly rootNodes: readonly { readonly url: string }[];
  /** The index in `nodes` of the master that owns `key`'s slot. */
  nodeOf(key: string): Promise<number>;
  /** Waits (at most `deadlineMs`) until every running node reports `cluster_state:<state>`. */
  waitState(state: "ok" | "fail", deadlineMs?: number): Promise<void>;
  /** Kills every node and removes the cluster's directory. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** How many masters (at least 3, as redis-cli requires). Default 3. */
  readonly masters?: number;
  /** `cluster-node-timeout`, ms: how soon the others mark a dead master failed. Default 1000. */
  readonly nodeTimeoutMs?: number;
  /**
   * `cluster-require-full-coverage`: with `true` (Redis' default) the whole
   * cluster refuses commands once a master is marked failed; with `false`
   * (the default here) the other masters keep serving their slots.
   */
  readonly fullCoverage?: boolean;
}

/** The `CLUSTER NODES` text of a node, parsed: port to slot ranges of each master. */
async function slotRanges(port: number): Promise<Map<number, [number, number][]>> {
  const reply = await rawCommand(port, ["CLUSTER", "NODES"]);
  const ranges = new Map<number, [number, number][]>();
  for (const line of reply.split("\n").slice(1)) {
    const fields = line.trim().split(" ");
    if (fields.length < 8 || !fields[2]!.includes("master")) continue;
    const nodePort = Number(fields[1]!.split("@")[0]!.split(":").pop());
    const own: [number, number][] = [];
    for (const range of fields.slice(8)) {
      if (range.startsWith("[")) continue; // a slot being migrated
      const [from, to] = range.split("-").map(Number);
      own.push([from!, to ?? from!]);
    }
    ranges.set(nodePort, own);
  }
  return ranges;
}

/**
 * Starts a Redis Cluster: `masters` redis-server processes on free
 * 127.0.0.1 ports (no persistence, `cluster-enabled yes`, each with its own
 * `cluster-config-file` in a temporary directory), joined with `redis-cli
 * --cluster create ... --cluster-yes`, then waits (bounded) for
 * `cluster_state:ok`. A killed node restarted with `restart()` rejoins with
 * its slots (from its config file), empty.
 *
 * @throws When a binary is missing, a node does not come up, or the cluster is not ok in time.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const fullCoverage = options.fullCoverage ?? false;
  const cli = findRedisCli();
  if (cli === undefined) throw new Error("redis-cli is not installed");
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedisWith((port) => {
          const own = join(dir, String(port));
          mkdirSync(own, { recursive: true });
          return [
            "--dir",
            own,
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            String(nodeTimeoutMs),
            "--cluster-require-full-coverage",
            fullCoverage ? "yes" : "no",
          ];
        }),
      );
    }
    const created = spawnSync(cli, [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ], { encoding: "utf8", timeout: 20_000 });
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    }
    const cluster: RedisCluster = {
      nodes,
      rootNodes: nodes.map((node) => ({ url: node.url })),
      async nodeOf(key) {
        const running = nodes.find((node) => node.running);
        if (running === undefined) throw new Error("no cluster node is running");
        const slot = Number((await running.command("CLUSTER", "KEYSLOT", key)).slice(1));
        const ranges = await slotRanges(running.port);
        for (const [port, own] of ranges) {
          if (own.some(([from, to]) => slot >= from && slot <= to)) {
            return nodes.findIndex((node) => node.port === port);
          }
        }
        throw new Error(`no master owns slot ${slot}`);
      },
      async waitState(state, deadlineMs = 10_000) {
        const until = Date.now() + deadlineMs;
        let last = "";
        while (Date.now() < until) {
          const states = await Promise.all(
            nodes.filter((node) => node.running).map(async (node) => {
              try {
                return /cluster_state:(\w+)/.exec(await node.command("CLUSTER", "INFO"))?.[1];
              } catch (error) {
                return String(error);
              }
            }),
          );
          last = states.join(", ");
          if (states.every((s) => s === state)) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`cluster not ${state} within ${deadlineMs} ms: ${last}`);
      },
      stop,
    };
    await cluster.waitState("ok");
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- TLS server processes sharing Redis (parent side; the child is tests/_redis_tls_proc.ts) ---

const HERE = dirname(fileURLToPath(import.meta.url));
const CERT = readFileSync(join(HERE, "..", "fixtures", "test_only_cert.pem"));

/** Counters a TLS server process reports: its SessionCache's and its store's. */
export interface ServerProcessStats {
  readonly cache: Record<string, number>;
  readonly store: Record<string, number>;
  readonly size: number;
}

/** A TLS server child process (tests/_redis_tls_proc.ts) using a SessionCache and a RedisSessionStore. */
export interface TlsServerProcess {
  /** Its TLS port on 127.0.0.1. */
  readonly port: number;
  /** Whether it exited unexpectedly. */
  readonly crashed: boolean;
  /** Its counters. */
  stats(): Promise<ServerProcessStats>;
  /** `cache.remove()` of a session id (hex) in that process: its store DELs the key. */
  remove(idHex: string): Promise<void>;
  /** Sets the lifetime (seconds) of the sessions it makes from now on. */
  setTimeout(seconds: number): Promise<void>;
  /** Sets its cache's mode (e.g. `SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL`). */
  setMode(mode: number): Promise<void>;
  /** Ends the process. */
  stop(): Promise<void>;
}

/**
 * A server child process that prints `{"ready":true,"port":N}` once it
 * listens and answers one JSON command per stdin line
 * (`{"seq":1,"cmd":"stats"}` → `{"seq":1,"result":…}`); it exits when stdin closes.
 */
export interface ServerProcess {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Whether it exited unexpectedly. */
  readonly crashed: boolean;
  /** Sends a command and resolves with its result. */
  ask(cmd: string, arg?: unknown): Promise<unknown>;
  /** Ends the process (closes its stdin; SIGKILL after 2 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <script>` (a file of tests/redis/) with `env`
 * added to this process's environment; resolves once it listens. Always Node:
 * the servers need Node's TLS session events and ticket keys, whatever
 * runtime runs the tests.
 */
export async function startServerProcess(
  script: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  installExitHook();
  const node = "Deno" in globalThis || "Bun" in globalThis ? "node" : process.execPath;
  const child = spawn(node, ["--import", "tsx", join(HERE, script)], {
    cwd: join(HERE, "..", ".."),
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  live.add(child);
  let crashed = false;
  let stopping = false;
  const waiters = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let ready: { resolve(port: number): void; reject(e: Error): void } | undefined;
  const portPromise = new Promise<number>((resolve, reject) => (ready = { resolve, reject }));
  child.on("exit", (code, signal) => {
    live.delete(child);
    if (!stopping) crashed = true;
    const error = new Error(`server process ${script} exited (${code ?? signal})`);
    ready?.reject(error);
    for (const w of waiters.values()) w.reject(error);
    waiters.clear();
  });
  let buffered = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let msg: { ready?: boolean; port?: number; seq?: number; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        process.stderr.write(`[${script}] ${line}\n`);
        continue;
      }
      if (msg.ready && msg.port !== undefined) ready?.resolve(msg.port);
      else if (msg.seq !== undefined) {
        const w = waiters.get(msg.seq);
        waiters.delete(msg.seq);
        if (msg.error !== undefined) w?.reject(new Error(msg.error));
        else w?.resolve(msg.result);
      }
    }
  });
  let seq = 0;
  const ask = (cmd: string, arg?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`server process ${script} is not running`));
        return;
      }
      const id = ++seq;
      waiters.set(id, { resolve, reject });
      child.stdin!.write(JSON.stringify({ seq: id, cmd, arg }) + "\n");
    });
  const timer = setTimeout(
    () => ready?.reject(new Error(`server process ${script} did not start in 20 s`)),
    20_000,
  );
  let port: number;
  try {
    port = await portPromise;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    port,
    get crashed() {
      return crashed;
    },
    ask,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.stdin!.end();
      const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
      await gone;
      clearTimeout(kill);
    },
  };
}

/**
 * Starts one TLS server process (`node --import tsx tests/_redis_tls_proc.ts`) whose
 * SessionCache uses a RedisSessionStore on `redisUrl`. Resolves once it listens.
 */
export async function startTlsServerProcess(
  redisUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<TlsServerProcess> {
  const proc = await startServerProcess("_redis_tls_proc.ts", {
    REDIS_URL: redisUrl,
    ...extraEnv,
  });
  return {
    port: proc.port,
    get crashed() {
      return proc.crashed;
    },
    stats: () => proc.ask("stats") as Promise<ServerProcessStats>,
    remove: async (idHex) => void await proc.ask("remove", idHex),
    setTimeout: async (seconds) => void await proc.ask("timeout", seconds),
    setMode: async (mode) => void await proc.ask("mode", mode),
    stop: () => proc.stop(),
  };
}

/** Two TLS server processes sharing one Redis. */
export async function startServerPair(
  redisUrl: string,
): Promise<{ a: TlsServerProcess; b: TlsServerProcess; stop(): Promise<void> }> {
  const [a, b] = await Promise.all([
    startTlsServerProcess(redisUrl),
    startTlsServerProcess(redisUrl),
  ]);
  return { a, b, stop: async () => void await Promise.all([a.stop(), b.stop()]) };
}

/** What one client handshake saw. */
export interface HandshakeResult {
  /** `isSessionReused()`. */
  readonly reused: boolean;
  /** The session to offer next time (DER, from `getSession()`). */
  readonly session: Buffer | undefined;
  /** The session id (hex) inside `session`. */
  readonly id: string;
  /** From `connect()` to `secureConnect`, in ms. */
  readonly ms: number;
}

/**
 * One TLS 1.2 client handshake with 127.0.0.1:`port`, offering `session`
 * (no tickets: the server resumes by session id only).
 */
export function handshake(
  port: number,
  session?: Buffer,
  timeoutMs = 5000,
): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: CERT,
      maxVersion: "TLSv1.2",
      minVersion: "TLSv1.2",
      ...(session === undefined ? {} : { session }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`handshake with port ${port} did not complete in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      const der = socket.getSession();
      const result: HandshakeResult = {
        reused: socket.isSessionReused(),
        session: der,
        id: der === undefined ? "" : sessionIdOfDer(der),
        ms,
      };
      socket.end();
      resolve(result);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/**
 * The session id inside a DER `SSL_SESSION` (ASN.1: SEQUENCE { version INTEGER,
 * sslversion INTEGER, cipher OCTET STRING, session_id OCTET STRING, ... }).
 */
export function sessionIdOfDer(der: Uint8Array): string {
  let at = 0;
  const readHeader = (): { tag: number; len: number } => {
    const tag = der[at++]!;
    let len = der[at++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | der[at++]!;
    }
    return { tag, len };
  };
  if (readHeader().tag !== 0x30) throw new Error("not an SSL_SESSION");
  for (let field = 0; field < 3; field++) {
    const skipped = readHeader().len; // read first: `at += readHeader().len` would add to the old `at`
    at += skipped;
  }
  const { tag, len } = readHeader();
  if (tag !== 0x04) throw new Error("SSL_SESSION without a session id");
  return Buffer.from(der.subarray(at, at + len)).toString("hex");
}

/** The outcome of a run of handshakes. */
export interface RunResult {
  /** Handshakes made. */
  readonly total: number;
  /** Handshakes that resumed. */
  readonly reused: number;
  /** Handshakes that failed (error or timeout). */
  readonly failed: number;
  /** Times of the resumed handshakes, ms. */
  readonly resumedMs: readonly number[];
  /** Times of the full handshakes, ms. */
  readonly fullMs: readonly number[];
  /** Messages of the failed handshakes. */
  readonly errors: readonly string[];
}

/**
 * `rounds` rounds of: a full handshake on one process, then a resumption
 * attempt of that very session on the other process (which has never seen it:
 * it must come from Redis). The first process alternates between rounds, so
 * `2 * rounds` handshakes alternate between the processes.
 */
export async function crossRounds(
  a: { port: number },
  b: { port: number },
  rounds: number,
): Promise<RunResult & { readonly attempts: number }> {
  let reused = 0;
  let failed = 0;
  const resumedMs: number[] = [];
  const fullMs: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const [x, y] = i % 2 === 0 ? [a, b] : [b, a];
    let first: HandshakeResult;
    try {
      first = await handshake(x.port);
      fullMs.push(first.ms);
    } catch (error) {
      failed++;
      errors.push(`round ${i}, full handshake: ${error}`);
      continue;
    }
    try {
      const second = await handshake(y.port, first.session);
      if (second.reused) {
        reused++;
        resumedMs.push(second.ms);
      } else {
        fullMs.push(second.ms);
      }
    } catch (error) {
      failed++;
      errors.push(`round ${i}, resumption: ${error}`);
    }
  }
  return { total: 2 * rounds, attempts: rounds, reused, failed, resumedMs, fullMs, errors };
}

/** `n` resumptions of one session on the process that made it (internal cache hits). */
export async function sameProcess(x: { port: number }, n: number): Promise<RunResult> {
  const first = await handshake(x.port);
  let reused = 0;
  let failed = 0;
  const resumedMs: number[] = [];
  const fullMs: number[] = [first.ms];
  const errors: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const r = await handshake(x.port, first.session);
      if (r.reused) {
        reused++;
        resumedMs.push(r.ms);
      } else fullMs.push(r.ms);
    } catch (error) {
      failed++;
      errors.push(`resumption ${i}: ${error}`);
    }
  }
  return { total: n + 1, reused, failed, resumedMs, fullMs, errors };
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
