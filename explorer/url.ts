// This module is browser compatible.

/**
 * Steps in a URL: a shareable link replays the same scenario. The fragment
 * reads `#steps=size:3;add:01,100,10;flush:111&at=2`: steps joined by `;`,
 * each `op:field,field,...` with its fields in a fixed order per operation
 * (trailing optional fields left out), and the entry shown as `at`. Only
 * characters a URL fragment allows unescaped are used (RFC 3986 pchar).
 *
 * @module
 */

import type { Step } from "./steps.ts";

type FieldType = "hex" | "num" | "bool" | "side";
interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly optional?: boolean;
}

const f = (name: string, type: FieldType, optional = false): Field => ({ name, type, optional });

/** The fields of each operation, in their encoded order. */
const FIELDS: { readonly [K in Step["op"]]: readonly Field[] } = {
  clock: [f("now", "num")],
  add: [f("id", "hex"), f("time", "num"), f("timeout", "num"), f("version", "num", true)],
  readd: [f("id", "hex"), f("version", "num", true)],
  remove: [f("id", "hex"), f("version", "num", true)],
  flush: [f("tm", "num")],
  setTime: [f("id", "hex"), f("time", "num"), f("version", "num", true)],
  setTimeout: [f("id", "hex"), f("timeout", "num"), f("version", "num", true)],
  size: [f("cacheSize", "num")],
  mode: [f("mode", "num")],
  timeout: [f("timeout", "num")],
  lookup: [
    f("id", "hex"),
    f("version", "num", true),
    f("sidCtx", "hex", true),
    f("extTime", "num", true),
    f("extTimeout", "num", true),
  ],
  handshake: [
    f("side", "side"),
    f("id", "hex"),
    f("resumed", "bool"),
    f("tls13", "bool"),
    f("count", "num"),
    f("version", "num", true),
  ],
};

const NUMBER = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|Infinity|NaN|0x[0-9a-f]+)$/i;
const HEX = /^(?:[0-9a-f]{2})*$/;

function flat(step: Step): Record<string, unknown> {
  if (step.op === "lookup") {
    const { external, ...rest } = step;
    return { ...rest, extTime: external?.time, extTimeout: external?.timeout };
  }
  return { ...step };
}

function encodeValue(field: Field, value: unknown): string {
  switch (field.type) {
    case "hex":
      return String(value);
    case "num":
      return field.name === "mode" ? `0x${(value as number).toString(16)}` : String(value);
    case "bool":
      return value === true ? "1" : "0";
    case "side":
      return value === "client" ? "c" : "s";
  }
}

/** One step as text: `add:01,100,10`. */
export function encodeStep(step: Step): string {
  const values = flat(step);
  const parts = FIELDS[step.op].map((field) => {
    const v = values[field.name];
    return v === undefined ? "" : encodeValue(field, v);
  });
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return `${step.op}:${parts.join(",")}`;
}

/** Steps as the text of `#steps=` (joined by `;`). */
export function encodeSteps(steps: readonly Step[]): string {
  return steps.map(encodeStep).join(";");
}

function decodeValue(field: Field, text: string, where: string): unknown {
  const bad = (rule: string) =>
    new SyntaxError(`Cannot read ${where}: ${field.name} must be ${rule}: received "${text}"`);
  switch (field.type) {
    case "hex":
      if (!HEX.test(text)) throw bad("hex digits in pairs");
      return text;
    case "num":
      if (!NUMBER.test(text)) throw bad("a number");
      return Number(text);
    case "bool":
      if (text !== "0" && text !== "1") throw bad("0 or 1");
      return text === "1";
    case "side":
      if (text !== "s" && text !== "c") throw bad('"s" or "c"');
      return text === "c" ? "client" : "server";
  }
}

/**
 * One step from its text.
 *
 * @throws {SyntaxError} On an unknown operation or a malformed field.
 */
export function decodeStep(text: string, index = 0): Step {
  const where = `step ${index + 1}`;
  const colon = text.indexOf(":");
  const op = colon < 0 ? text : text.slice(0, colon);
  if (!Object.hasOwn(FIELDS, op)) {
    throw new SyntaxError(`Cannot read ${where}: unknown operation: received "${op}"`);
  }
  const fields = FIELDS[op as Step["op"]];
  const parts = colon < 0 ? [] : text.slice(colon + 1).split(",");
  if (parts.length > fields.length) {
    throw new SyntaxError(
      `Cannot read ${where}: ${op} must have at most ${fields.length} fields: received ${parts.length}`,
    );
  }
  const out: Record<string, unknown> = { op };
  fields.forEach((field, i) => {
    const part = parts[i];
    // An empty optional field is absent; an empty id is a value (the empty id).
    if (field.optional === true && (part === undefined || part === "")) return;
    if (part === undefined || (part === "" && field.type !== "hex")) {
      throw new SyntaxError(`Cannot read ${where}: ${op} needs ${field.name}: received nothing`);
    }
    out[field.name] = decodeValue(field, part, where);
  });
  if (op === "lookup") {
    const { extTime, extTimeout, ...rest } = out;
    if ((extTime === undefined) !== (extTimeout === undefined)) {
      throw new SyntaxError(
        `Cannot read ${where}: lookup needs both extTime and extTimeout, or neither`,
      );
    }
    return (extTime === undefined
      ? rest
      : { ...rest, external: { time: extTime, timeout: extTimeout } }) as unknown as Step;
  }
  return out as unknown as Step;
}

/** Steps from the text of `#steps=`. @throws {SyntaxError} On a malformed step. */
export function decodeSteps(text: string): Step[] {
  if (text === "") return [];
  return text.split(";").map((t, i) => decodeStep(t, i));
}

/** What a fragment holds. */
export interface Shared {
  /** The steps. */
  readonly steps: readonly Step[];
  /** The entry shown (0 is the start); absent: the last one. */
  readonly at?: number | undefined;
  /** The scenario's name, if the steps came from one. */
  readonly scenario?: string | undefined;
}

/** The fragment (with its `#`) for some steps, an entry to show and a scenario name. */
export function encodeFragment(shared: Shared): string {
  let out = `#steps=${encodeSteps(shared.steps)}`;
  if (shared.at !== undefined) out += `&at=${shared.at}`;
  if (shared.scenario !== undefined) out += `&scenario=${encodeURIComponent(shared.scenario)}`;
  return out;
}

/**
 * Reads a fragment (`location.hash`, with or without its `#`).
 *
 * @throws {SyntaxError} On a malformed step or `at`.
 */
export function decodeFragment(hash: string): Shared {
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  let steps: Step[] = [];
  let at: number | undefined;
  let scenario: string | undefined;
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    if (key === "steps") steps = decodeSteps(value);
    else if (key === "at") {
      if (!/^\d+$/.test(value)) {
        throw new SyntaxError(
          `Cannot read the link: at must be a whole number: received "${value}"`,
        );
      }
      at = Number(value);
    } else if (key === "scenario") scenario = value;
  }
  return { steps, at, scenario };
}
