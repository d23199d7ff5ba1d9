// The explorer's shareable links (explorer/url.ts): steps in a URL fragment and back.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Step } from "../../explorer/steps.ts";
import {
  decodeFragment,
  decodeStep,
  decodeSteps,
  encodeFragment,
  encodeStep,
  encodeSteps,
} from "../../explorer/url.ts";

describe("steps in a URL", () => {
  it("each operation has a short text form, optional fields left out", () => {
    const cases: [Step, string][] = [
      [{ op: "add", id: "01", time: 1000, timeout: 10 }, "add:01,1000,10"],
      [{ op: "add", id: "01", time: 1000, timeout: 10, version: 0x0303 }, "add:01,1000,10,771"],
      [{ op: "add", id: "", time: 1000, timeout: 300 }, "add:,1000,300"],
      [{ op: "readd", id: "01" }, "readd:01"],
      [{ op: "readd", id: "" }, "readd:"],
      [{ op: "remove", id: "0a0b", version: 0x0304 }, "remove:0a0b,772"],
      [{ op: "flush", tm: 0 }, "flush:0"],
      [{ op: "setTime", id: "01", time: 110.5 }, "setTime:01,110.5"],
      [{ op: "setTimeout", id: "01", timeout: 7 }, "setTimeout:01,7"],
      [{ op: "size", cacheSize: 3 }, "size:3"],
      [{ op: "mode", mode: 0x402 }, "mode:0x402"],
      [{ op: "timeout", timeout: 300 }, "timeout:300"],
      [{ op: "clock", now: 1100 }, "clock:1100"],
      [{ op: "lookup", id: "01" }, "lookup:01"],
      [
        { op: "lookup", id: "02", sidCtx: "aa", external: { time: 1000, timeout: 50 } },
        "lookup:02,,aa,1000,50",
      ],
      [
        { op: "handshake", side: "client", id: "0a", resumed: true, tls13: false, count: 255 },
        "handshake:c,0a,1,0,255",
      ],
    ];
    for (const [step, text] of cases) {
      assert.equal(encodeStep(step), text);
      assert.deepEqual(decodeStep(text), step, text);
    }
  });

  it("a fragment holds the steps, the entry shown and the scenario name", () => {
    const steps: Step[] = [{ op: "size", cacheSize: 3 }, { op: "flush", tm: 0 }];
    const hash = encodeFragment({ steps, at: 1, scenario: "capacity" });
    assert.equal(hash, "#steps=size:3;flush:0&at=1&scenario=capacity");
    assert.deepEqual(decodeFragment(hash), { steps, at: 1, scenario: "capacity" });
    assert.deepEqual(decodeFragment(""), { steps: [], at: undefined, scenario: undefined });
    assert.match(hash, /^#[A-Za-z0-9=&;:,._~-]*$/, "only characters a fragment allows unescaped");
  });

  it("odd numbers survive: fractions, negatives, Infinity, NaN, hex modes", () => {
    const steps: Step[] = [
      { op: "add", id: "01", time: -1, timeout: Infinity },
      { op: "flush", tm: NaN },
      { op: "setTime", id: "01", time: 1e21 },
      { op: "clock", now: 0.25 },
    ];
    assert.deepEqual(decodeSteps(encodeSteps(steps)), steps);
  });

  it("a malformed link is refused with a SyntaxError naming the step", () => {
    const bad: [string, RegExp][] = [
      ["jump:1", /step 1: unknown operation: received "jump"/],
      ["add:01,1000", /step 1: add needs timeout/],
      ["size:3;flush:x", /step 2: tm must be a number: received "x"/],
      ["add:1,1000,10", /id must be hex digits in pairs: received "1"/],
      ["handshake:q,01,0,0,1", /side must be "s" or "c"/],
      ["flush:1,2", /flush must have at most 1 fields: received 2/],
      ["lookup:01,,,1000", /lookup needs both extTime and extTimeout, or neither/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => decodeSteps(text),
        (e: unknown) => e instanceof SyntaxError && message.test(e.message),
        text,
      );
    }
    assert.throws(() => decodeFragment("#steps=&at=x"), /at must be a whole number/);
  });
});
