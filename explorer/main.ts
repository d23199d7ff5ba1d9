// This module is browser compatible.
/// <reference lib="dom" />

/**
 * The explorer page: wires the forms to steps, keeps the hist and the
 * entry shown, and renders a frame (the two structures, the counters, the
 * timeline), the explanation of its step, the hist and a comparison.
 * All logic about the cache is in `model.ts` and `explain.ts`; this file only
 * reads their values and writes the DOM.
 *
 * @module
 */

import * as core from "../core.ts";
import { COUNTERS, describeSession, MODE_BITS, modeHex, modeNames } from "./explain.ts";
import {
  clampIndex,
  compareFrames,
  type Entry,
  type Frame,
  type History,
  listHeadToTail,
  recordStep,
  replay,
  type SessionView,
  startHistory,
  stepsOf,
  tableEntries,
} from "./model.ts";
import { scenarioNamed, SCENARIOS } from "./scenarios.ts";
import { bytesOf, labelOf, type Step, timeText, versionName } from "./steps.ts";
import { decodeFragment, encodeFragment } from "./url.ts";

// ---------------------------------------------------------------------------------------------
// DOM helpers

type Child = Node | string | number | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`The page lacks #${id}`);
  return el as T;
}

function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

const SVG = "http://www.w3.org/2000/svg";
function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// ---------------------------------------------------------------------------------------------
// State

// Not named "history": that is the window's own.
let hist: History = startHistory();
let at = 0;
let scenario: string | undefined;
/** Whether the reader chose the states to compare (else: the step shown and the one before). */
let comparePicked = false;

function current(): Entry {
  return hist.entries[at] as Entry;
}

function notice(text: string | undefined): void {
  const el = byId("notice");
  el.hidden = text === undefined;
  el.textContent = text ?? "";
}

/** Records a step at the entry shown (dropping later entries) and shows its result. */
function take(step: Step): void {
  hist = recordStep(hist, at, step);
  at = hist.entries.length - 1;
  notice(undefined);
  render();
}

function go(index: number): void {
  at = clampIndex(hist, index);
  render();
}

function load(steps: readonly Step[], index: number | undefined, name: string | undefined): void {
  hist = replay(steps);
  at = clampIndex(hist, index ?? hist.entries.length - 1);
  scenario = name;
  comparePicked = false;
  render();
}

// ---------------------------------------------------------------------------------------------
// Forms

function field(form: HTMLFormElement, name: string): HTMLInputElement | HTMLSelectElement {
  const el = form.elements.namedItem(name);
  if (!(el instanceof HTMLInputElement) && !(el instanceof HTMLSelectElement)) {
    throw new Error(`The form ${form.getAttribute("id")} lacks ${name}`);
  }
  return el;
}

/** A number field; an empty one is refused by the page (it is not an input of the core). */
function num(form: HTMLFormElement, name: string): number {
  const el = field(form, name);
  const label = el.closest("label")?.firstChild?.textContent?.trim() ?? name;
  if (el.value.trim() === "") throw new RangeError(`Fill in “${label}”`);
  const n = Number(el.value);
  if (Number.isNaN(n)) throw new RangeError(`“${label}” is not a number: ${el.value}`);
  return n;
}

function hexField(form: HTMLFormElement, name: string): string {
  const value = field(form, name).value.replace(/\s+/g, "").toLowerCase();
  bytesOf(value); // throws a SyntaxError naming the bad text
  return value;
}

function version(form: HTMLFormElement): number | undefined {
  const v = field(form, "version").value;
  return v === "" ? undefined : Number(v);
}

function checked(form: HTMLFormElement, name: string): boolean {
  return (field(form, name) as HTMLInputElement).checked;
}

function withVersion<T extends object>(step: T, v: number | undefined): T {
  return v === undefined ? step : { ...step, version: v };
}

/** Builds the step a form's button asks for. */
function stepFrom(form: HTMLFormElement, action: string): Step | undefined {
  const frame = current().frame;
  // getAttribute: an input named "id" shadows form.id.
  switch (form.getAttribute("id")) {
    case "form-session": {
      const id = hexField(form, "id");
      const v = version(form);
      switch (action) {
        case "add":
          return withVersion(
            { op: "add", id, time: num(form, "time"), timeout: num(form, "timeout") } as const,
            v,
          );
        case "readd":
          return withVersion({ op: "readd", id } as const, v);
        case "remove":
          return withVersion({ op: "remove", id } as const, v);
        case "setTime":
          return withVersion({ op: "setTime", id, time: num(form, "time") } as const, v);
        case "setTimeout":
          return withVersion({ op: "setTimeout", id, timeout: num(form, "timeout") } as const, v);
      }
      return undefined;
    }
    case "form-flush":
      return { op: "flush", tm: action === "flush0" ? 0 : num(form, "tm") };
    case "form-clock":
      return { op: "clock", now: action === "set" ? num(form, "now") : frame.now + Number(action) };
    case "form-context":
      if (action === "size") return { op: "size", cacheSize: num(form, "cacheSize") };
      if (action === "timeout") return { op: "timeout", timeout: num(form, "ctxTimeout") };
      return { op: "mode", mode: modeFromBits() };
    case "form-lookup": {
      const sidCtx = hexField(form, "sidCtx");
      const base = withVersion({ op: "lookup", id: hexField(form, "id") } as const, version(form));
      const withCtx = sidCtx === "" ? base : { ...base, sidCtx };
      return checked(form, "external")
        ? { ...withCtx, external: { time: num(form, "extTime"), timeout: num(form, "extTimeout") } }
        : withCtx;
    }
    case "form-handshake": {
      const many = action === "255";
      return withVersion(
        {
          op: "handshake",
          side: field(form, "side").value === "client" ? "client" : "server",
          id: hexField(form, "id"),
          resumed: many || checked(form, "resumed"),
          tls13: checked(form, "tls13"),
          count: many ? 255 : 1,
        } as const,
        version(form),
      );
    }
  }
  return undefined;
}

function modeFromBits(): number {
  let mode = 0;
  for (const box of byId("mode-bits").querySelectorAll<HTMLInputElement>("input")) {
    if (box.checked) mode |= Number(box.value);
  }
  return mode;
}

/** The protocol versions a session can have in the forms (absent: 0). */
const VERSIONS: readonly [string, string][] = [
  ["", "0"],
  [String(core.TLS1_2_VERSION), "TLS 1.2 (0x0303)"],
  [String(core.TLS1_3_VERSION), "TLS 1.3 (0x0304)"],
];

function setupForms(): void {
  for (const select of document.querySelectorAll<HTMLSelectElement>("select[data-versions]")) {
    select.append(...VERSIONS.map(([value, text]) => h("option", { value }, text)));
  }
  const bits = byId("mode-bits");
  for (const [bit, name] of MODE_BITS) {
    const short = name.replace("SSL_SESS_CACHE_", "");
    bits.append(
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", value: bit, "data-bit": short }),
        ` ${short} (${modeHex(bit)})`,
      ),
    );
  }
  bits.addEventListener("change", () => {
    byId("mode-preview").textContent = modeHex(modeFromBits());
  });
  for (const form of document.querySelectorAll<HTMLFormElement>("form.op")) {
    form.addEventListener("submit", (event: SubmitEvent) => {
      event.preventDefault();
      const button = event.submitter as HTMLButtonElement | null;
      try {
        const step = stepFrom(form, button?.value ?? "");
        if (step !== undefined) take(step);
      } catch (error) {
        notice(error instanceof Error ? error.message : String(error));
      }
    });
  }
  const list = byId("scenarios");
  for (const sc of SCENARIOS) {
    const button = h("button", { type: "button", "data-scenario": sc.name }, sc.title);
    button.addEventListener("click", () => {
      load(sc.steps, 0, sc.name);
      byId("forward").focus();
    });
    list.append(h("li", {}, button, h("p", { class: "about" }, sc.about)));
  }
  byId("first").addEventListener("click", () => go(0));
  byId("back").addEventListener("click", () => go(at - 1));
  byId("forward").addEventListener("click", () => go(at + 1));
  byId("last").addEventListener("click", () => go(hist.entries.length - 1));
  byId<HTMLInputElement>("jump").addEventListener("input", (e) => {
    go(Number((e.target as HTMLInputElement).value));
  });
  byId("history").addEventListener("click", (e) => {
    const b = (e.target as Element).closest<HTMLButtonElement>("button[data-index]");
    if (b !== null) go(Number(b.dataset.index));
  });
  for (const id of ["compare-a", "compare-b"]) {
    byId(id).addEventListener("change", () => {
      comparePicked = true;
      renderCompare();
    });
  }
  byId("copy-url").addEventListener("click", async () => {
    const input = byId<HTMLInputElement>("share-url");
    try {
      await navigator.clipboard.writeText(input.value);
      notice("Link copied");
    } catch {
      input.select();
      notice("Select the link and copy it (the clipboard is not available here)");
    }
  });
  byId("reset").addEventListener("click", () => load([], 0, undefined));
  document.addEventListener("keydown", (e: KeyboardEvent) => {
    const t = e.target as HTMLElement;
    if (t.closest("input, select, textarea") !== null || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    const to: Record<string, number> = {
      ArrowLeft: at - 1,
      ArrowRight: at + 1,
      Home: 0,
      End: hist.entries.length - 1,
    };
    if (e.key in to) {
      e.preventDefault();
      go(to[e.key] as number);
    }
  });
  globalThis.addEventListener("hashchange", readFragment);
}

/** Follows the form defaults to the frame shown, so "now" is one click away. */
function syncForms(frame: Frame): void {
  const set = (formId: string, name: string, value: number) => {
    const form = byId<HTMLFormElement>(formId);
    field(form, name).value = String(value);
  };
  set("form-flush", "tm", frame.now);
  set("form-clock", "now", frame.now);
  for (const box of byId("mode-bits").querySelectorAll<HTMLInputElement>("input")) {
    box.checked = (frame.cache.mode & Number(box.value)) !== 0;
  }
  byId("mode-preview").textContent = modeHex(frame.cache.mode);
}

// ---------------------------------------------------------------------------------------------
// Rendering

function changedKeys(entry: Entry): Set<string> {
  const keys = new Set<string>();
  for (const c of entry.explanation.changes) {
    if ((c.kind === "added" || c.kind === "resorted" || c.kind === "updated") && c.key) {
      keys.add(c.key);
    }
  }
  return keys;
}

function renderStructures(entry: Entry): void {
  const { frame } = entry;
  const { cache } = frame;
  const fresh = changedKeys(entry);
  byId("position").textContent = `: step ${at} of ${hist.entries.length - 1}`;
  fill(
    byId("settings"),
    h("span", { "data-setting": "now" }, "now ", h("strong", {}, timeText(frame.now))),
    h("span", { "data-setting": "cacheSize" }, "cache size ", h("strong", {}, cache.cacheSize)),
    h(
      "span",
      { "data-setting": "mode" },
      "mode ",
      h("strong", {}, `${modeHex(cache.mode)} ${modeNames(cache.mode)}`),
    ),
    h("span", { "data-setting": "timeout" }, "context timeout ", h("strong", {}, cache.timeout)),
  );

  const rows = tableEntries(frame).map((v) =>
    h(
      "tr",
      { "data-key": v.key, class: fresh.has(v.key) ? "fresh" : undefined },
      h("td", {}, versionName(v.session.version ?? 0)),
      h(
        "td",
        { class: "id" },
        v.session.id.length === 0 ? "(empty)" : labelOf({ id: v.session.id }),
      ),
      h("td", {}, v.session.id.length),
    )
  );
  fill(
    byId("hash-table").querySelector("tbody") as HTMLElement,
    ...(rows.length > 0 ? rows : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "empty"))]),
  );

  const list = listHeadToTail(frame);
  fill(
    byId("expiry-list"),
    ...list.map((v, i) =>
      h(
        "li",
        {
          "data-key": v.key,
          "data-expiry": timeText(v.expiry),
          class: [fresh.has(v.key) ? "fresh" : "", frame.now > v.expiry ? "past" : ""].join(" ")
            .trim() || undefined,
        },
        h(
          "span",
          { class: "end" },
          list.length === 1 ? "head tail" : i === 0 ? "head" : i === list.length - 1 ? "tail" : "",
        ),
        h("span", { class: "id" }, labelOf(v.session)),
        h("span", { class: "nums" }, `time ${v.session.time} + timeout ${v.session.timeout} = `),
        h("strong", { class: "expiry" }, timeText(v.expiry)),
        frame.now > v.expiry ? h("span", { class: "tag" }, "past its expiry") : null,
      )
    ),
  );
  if (list.length === 0) byId("expiry-list").append(h("li", { class: "empty" }, "empty"));

  const left = entry.outcome === undefined ? [] : leftIn(entry);
  fill(
    byId("left"),
    left.length === 0 ? null : h("p", {}, "Left the cache in this step:"),
    left.length === 0 ? null : h(
      "ul",
      {},
      ...left.map((r) =>
        h(
          "li",
          { "data-reason": r.reason },
          h("span", { class: `reason ${r.reason}` }, r.reason),
          " ",
          describeSession(r.session),
        )
      ),
    ),
  );

  const before = entry.before.cache.stats;
  fill(
    byId("counters"),
    ...COUNTERS.map(([name, c]) =>
      h(
        "div",
        { class: before[name] !== cache.stats[name] ? "fresh" : undefined },
        h("dt", {}, c.replace("SSL_CTX_sess_", "")),
        h("dd", { "data-counter": name }, cache.stats[name]),
      )
    ),
  );
  renderTimeline(entry, list);
}

/** Every session that left the cache in this step, with its reason, from the core's results. */
function leftIn(entry: Entry): { session: core.Session; reason: string }[] {
  const o = entry.outcome;
  if (o === undefined) return [];
  switch (o.kind) {
    case "add":
      return [
        ...o.result.removed,
        ...(o.result.replaced === undefined
          ? []
          : [{ session: o.result.replaced, reason: "replaced" }]),
      ];
    case "remove":
      return o.result.found ? [...o.result.removed] : [];
    case "flush":
      return [...o.result.removed];
    case "lookup":
      return [...o.internal.removed, ...(o.external?.result.removed ?? [])];
    case "handshake":
      return o.runs.flatMap((r) => [...r.result.removed, ...r.result.flushed]);
    default:
      return [];
  }
}

function renderTimeline(entry: Entry, list: readonly SessionView[]): void {
  const { frame } = entry;
  const step = entry.step;
  const marks: { t: number; label: string; cls: string }[] = [
    { t: frame.now, label: `now ${frame.now}`, cls: "now" },
  ];
  if (step?.op === "flush" && step.tm !== 0) {
    marks.push({ t: step.tm, label: `tm ${step.tm}`, cls: "tm" });
  }
  const finite = list.flatMap((
    v,
  ) => [v.session.time, ...(v.expiry === Infinity ? [] : [v.expiry])]);
  const all = [...finite, ...marks.map((m) => m.t)];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 10) {
    lo -= 5;
    hi += 5;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const W = 600;
  const left = 70;
  const rowH = 20;
  const top = 24;
  const H = top + Math.max(1, list.length) * rowH + 26;
  const x = (t: number) => left + ((Math.min(t, hi) - lo) / (hi - lo)) * (W - left - 10);
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": `Timeline from ${Math.round(lo)} to ${
      Math.round(hi)
    } s with ${list.length} sessions`,
  });
  const axisY = H - 18;
  svg.append(s("line", { x1: left, y1: axisY, x2: W - 10, y2: axisY, class: "axis" }));
  for (let i = 0; i <= 4; i++) {
    const t = lo + ((hi - lo) * i) / 4;
    svg.append(
      s("text", { x: x(t), y: H - 4, class: "tick", "text-anchor": "middle" }, t.toFixed(0)),
    );
  }
  list.forEach((v, i) => {
    const y = top + i * rowH;
    const x1 = x(v.session.time);
    const x2 = v.expiry === Infinity ? W - 10 : x(v.expiry);
    svg.append(
      s(
        "text",
        { x: left - 6, y: y + 13, "text-anchor": "end", class: "label" },
        labelOf(v.session),
      ),
    );
    svg.append(
      s("rect", {
        x: Math.min(x1, x2),
        y: y + 3,
        width: Math.max(2, Math.abs(x2 - x1)),
        height: rowH - 6,
        rx: 3,
        class: frame.now > v.expiry ? "bar past" : "bar",
      }),
    );
    svg.append(
      s(
        "text",
        { x: Math.min(x2 + 3, W - 14), y: y + 13, class: "label" },
        v.expiry === Infinity ? "∞" : "",
      ),
    );
  });
  for (const m of marks) {
    svg.append(s("line", { x1: x(m.t), y1: 14, x2: x(m.t), y2: axisY, class: `mark ${m.cls}` }));
    svg.append(
      s(
        "text",
        { x: x(m.t), y: 11, "text-anchor": "middle", class: `mark-label ${m.cls}` },
        m.label,
      ),
    );
  }
  fill(byId("timeline"), svg);
}

function renderExplanation(entry: Entry): void {
  const x = entry.explanation;
  byId("exp-title").textContent = `Step ${at}: ${x.title}`;
  fill(byId("exp-calls"), ...x.calls.map((c) => h("li", {}, h("code", {}, c))));
  fill(
    byId("exp-changes"),
    ...x.changes.map((c) =>
      h(
        "li",
        { "data-kind": c.kind, "data-key": c.key },
        h("span", { class: `kind ${c.kind}` }, c.kind),
        " ",
        c.text,
      )
    ),
  );
  fill(
    byId("exp-rules"),
    ...(x.rules.length === 0
      ? [h("li", { class: "empty" }, "(no quirk involved)")]
      : x.rules.map((r) =>
        h(
          "li",
          { "data-rule": r.id },
          h("strong", {}, r.title),
          h("code", { class: "src" }, r.code),
          h("span", { class: "where" }, r.where),
          h("span", { class: "text" }, r.text),
        )
      )),
  );
}

function renderHistory(): void {
  const items = hist.entries.map((e, i) =>
    h(
      "li",
      { class: i === at ? "current" : i > at ? "future" : undefined },
      h(
        "button",
        { type: "button", "data-index": i, "aria-current": i === at ? "step" : undefined },
        e.explanation.title,
        e.outcome?.kind === "error" ? h("span", { class: "tag" }, "refused") : null,
      ),
    )
  );
  fill(byId("history"), ...items);
  const jump = byId<HTMLInputElement>("jump");
  jump.max = String(hist.entries.length - 1);
  jump.value = String(at);
  jump.setAttribute("aria-valuetext", `step ${at} of ${hist.entries.length - 1}`);
  byId<HTMLButtonElement>("back").disabled = at === 0;
  byId<HTMLButtonElement>("first").disabled = at === 0;
  byId<HTMLButtonElement>("forward").disabled = at === hist.entries.length - 1;
  byId<HTMLButtonElement>("last").disabled = at === hist.entries.length - 1;

  // The comparison follows the step shown (A: the state before it, B: it) until the reader
  // picks other states.
  for (const [id, pick] of [["compare-a", Math.max(0, at - 1)], ["compare-b", at]] as const) {
    const select = byId<HTMLSelectElement>(id);
    const chosen = Number(select.value);
    fill(
      select,
      ...hist.entries.map((e, i) => h("option", { value: i }, `${i}: ${e.explanation.title}`)),
    );
    select.value = String(comparePicked ? clampIndex(hist, chosen) : pick);
  }
}

function sessionList(views: readonly SessionView[]): string {
  return views.length === 0 ? "none" : views.map((v) => describeSession(v.session)).join("; ");
}

function renderCompare(): void {
  const ia = Number(byId<HTMLSelectElement>("compare-a").value);
  const ib = Number(byId<HTMLSelectElement>("compare-b").value);
  const a = hist.entries[clampIndex(hist, ia)] as Entry;
  const b = hist.entries[clampIndex(hist, ib)] as Entry;
  const c = compareFrames(a.frame, b.frame);
  const out = byId("compare-out");
  fill(
    out,
    h(
      "p",
      { "data-compare": "same", "data-same": String(c.sameValue) },
      c.sameValue
        ? "Both states hold the very same CacheState object (Object.is): the core returned its input unchanged in between."
        : "Two different CacheState values, both still intact in memory.",
    ),
    h(
      "p",
      { "data-only": "a", "data-keys": c.onlyA.map((v) => v.key).join(" ") },
      h("strong", {}, "Only in A: "),
      sessionList(c.onlyA),
    ),
    h(
      "p",
      { "data-only": "b", "data-keys": c.onlyB.map((v) => v.key).join(" ") },
      h("strong", {}, "Only in B: "),
      sessionList(c.onlyB),
    ),
    c.changed.length === 0 ? null : h(
      "p",
      {},
      h("strong", {}, "Re-timed: "),
      c.changed.map((p) => `${describeSession(p.a.session)} → ${describeSession(p.b.session)}`)
        .join("; "),
    ),
    h(
      "p",
      {},
      h("strong", {}, "List head → tail: "),
      `A ${c.order.a.length === 0 ? "empty" : c.order.a.map((k) => k.split(":")[1]).join(" ")}; B ${
        c.order.b.length === 0 ? "empty" : c.order.b.map((k) => k.split(":")[1]).join(" ")
      }`,
    ),
    c.numbers.length === 0 ? h("p", {}, "Same counters and settings.") : h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "A"), h("th", {}, "B"))),
      h(
        "tbody",
        {},
        ...c.numbers.map(([name, va, vb]) =>
          h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, va), h("td", {}, vb))
        ),
      ),
    ),
  );
}

function renderShare(): void {
  const fragment = encodeFragment({ steps: stepsOf(hist), at, scenario });
  const url = `${location.href.split("#")[0]}${fragment}`;
  byId<HTMLInputElement>("share-url").value = url;
  if (location.hash !== fragment) globalThis.history.replaceState(null, "", fragment);
}

function render(): void {
  const entry = current();
  renderStructures(entry);
  renderExplanation(entry);
  renderHistory();
  renderCompare();
  renderShare();
  syncForms(entry.frame);
  document.body.dataset.at = String(at);
  document.body.dataset.steps = String(hist.entries.length - 1);
}

function readFragment(): void {
  if (location.hash === "" || location.hash === "#") {
    if (hist.entries.length > 1) load([], 0, undefined);
    return;
  }
  try {
    const shared = decodeFragment(location.hash);
    const same = shared.steps.length === hist.entries.length - 1 &&
      location.hash === encodeFragment({ steps: stepsOf(hist), at, scenario });
    if (same) return; // our own replaceState
    const name = shared.scenario !== undefined && scenarioNamed(shared.scenario) !== undefined
      ? shared.scenario
      : undefined;
    load(shared.steps, shared.at, name);
  } catch (error) {
    load([], 0, undefined);
    notice(`This link could not be read: ${error instanceof Error ? error.message : error}`);
  }
}

setupForms();
if (location.hash === "") render();
else readFragment();
document.body.dataset.ready = "true";
