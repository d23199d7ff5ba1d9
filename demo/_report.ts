/**
 * Demo helper: output that fits a terminal of 80 columns. Progress (one
 * updating line on a terminal, periodic lines otherwise), word-wrapped
 * paragraphs, and plain-text tables whose width is checked.
 *
 * @module
 */

import process from "node:process";

/** The widest line the demo prints. */
export const WIDTH = 80;

/** Writes progress: `\r`-updated on a TTY, at most every `everyMs` as lines otherwise. */
export class Progress {
  readonly #tty = process.stdout.isTTY === true;
  readonly #everyMs: number;
  #last = 0;
  #shown = "";
  #pending = "";

  constructor(everyMs = 2000) {
    this.#everyMs = everyMs;
  }

  /**
   * Shows `text` (rate-limited: a TTY redraws at most every 50 ms). On a
   * terminal too narrow for it, nothing is redrawn in place and `done()`
   * prints the last text wrapped: a line is never cut.
   */
  update(text: string, force = false): void {
    const now = performance.now();
    if (this.#tty) {
      if (!force && now - this.#last < 50) return;
      this.#last = now;
      this.#pending = text;
      const cols = Math.min(process.stdout.columns ?? WIDTH, WIDTH);
      if (text.length >= cols) return;
      process.stdout.write(`\r${text.padEnd(this.#shown.length)}`);
      this.#shown = text;
    } else if (force || now - this.#last >= this.#everyMs) {
      this.#last = now;
      process.stdout.write(`${wrap(text, "  ")}\n`);
    }
  }

  /** Ends the updating line (on a TTY) so that normal output can follow. */
  done(text?: string): void {
    if (text !== undefined) this.update(text, true);
    if (this.#tty) {
      if (this.#pending !== this.#shown) {
        // Too wide to redraw in place: clear the older line, print the last one wrapped.
        if (this.#shown !== "") process.stdout.write(`\r${" ".repeat(this.#shown.length)}\r`);
        process.stdout.write(wrap(this.#pending, "  ", process.stdout.columns));
      }
      if (this.#pending !== "") process.stdout.write("\n");
    }
    this.#shown = "";
    this.#pending = "";
  }
}

/**
 * Wraps text at word boundaries to `width` columns (at most
 * {@linkcode WIDTH}); continuation lines start with `indent`. Existing line
 * breaks are kept; a word longer than a line stays whole.
 */
export function wrap(text: string, indent = "", width = WIDTH): string {
  const max = Math.min(width, WIDTH);
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    const lead = /^\s*/.exec(paragraph)![0];
    let line = lead;
    let empty = true;
    for (const word of paragraph.trim().split(/\s+/).filter((w) => w !== "")) {
      const next = empty ? `${line}${word}` : `${line} ${word}`;
      if (next.length > max && !empty) {
        out.push(line);
        line = `${indent}${lead}${word}`;
      } else {
        line = next;
      }
      empty = false;
    }
    out.push(line);
  }
  return out.join("\n");
}

/**
 * Formats rows as an aligned table, columns two spaces apart, numbers
 * right-aligned, with a rule under the header. Throws if it would be wider
 * than {@linkcode WIDTH}: the demo's tables are designed to fit.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = header.map((_, i) =>
    rows.length > 0 &&
    rows.every((r) => typeof r[i] === "number" || /^(-?[\d.]+|-)$/.test(String(r[i])))
  );
  const line = (r: readonly string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ")
      .trimEnd();
  const lines = [
    line(cells[0]!),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ];
  const widest = Math.max(...lines.map((l) => l.length));
  if (widest > WIDTH) throw new Error(`table is ${widest} columns wide: ${lines[0]}`);
  return lines.join("\n");
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
