/**
 * Every timer the library starts is unref-ed where the runtime allows: a
 * process whose only pending work is the library's deadlines (the adapter's
 * lookup and new-session waits, the store's call deadlines) exits by itself.
 * Runs on Deno, Bun and Node, each starting a child of its own runtime.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, RUNTIME, runtimeCommand } from "../_spawn.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

describe(`timers the library starts do not keep a process alive (${RUNTIME})`, () => {
  it("a process waiting only on the library's 2^31 - 1 ms deadlines exits by itself", async () => {
    const finished = await run(runtimeCommand(join(HERE, "_unref_timers_proc.ts")), {
      cwd: join(HERE, "..", ".."),
      // Far below the 24.8 days the deadlines would keep it: killed means a timer is ref-ed.
      deadlineMs: 30_000,
    });
    assert.equal(finished.killed, false, `still running after 30 s: ${finished.stderr}`);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stdout, "waiting\n");
  });
});
