/**
 * Demo helper: progress output (one updating line on a terminal, periodic
 * lines otherwise) and plain-text tables.
 *
 * @module
 */

import process from "node:process";

/** Writes progress: `\r`-updated on a TTY, at most every `everyMs` as lines otherwise. */
export class Progress {
  readonly #tty = process.stdout.isTTY === true;
  readonly #everyMs: number;
  #last = 0;
  #shown = "";

  constructor(everyMs = 2000) {
    this.#everyMs = everyMs;
  }

  /** Shows `text` (rate-limited: a TTY redraws at most every 50 ms). */
  update(text: string, force = false): void {
    const now = performance.now();
    if (this.#tty) {
      if (!force && now - this.#last < 50) return;
      this.#last = now;
      const cols = process.stdout.columns ?? 100;
      const line = text.length >= cols ? text.slice(0, cols - 1) : text;
      process.stdout.write(`\r${line.padEnd(this.#shown.length)}`);
      this.#shown = line;
    } else if (force || now - this.#last >= this.#everyMs) {
      this.#last = now;
      process.stdout.write(`${text}\n`);
    }
  }

  /** Ends the updating line (on a TTY) so that normal output can follow. */
  done(text?: string): void {
    if (text !== undefined) this.update(text, true);
    if (this.#tty && this.#shown !== "") process.stdout.write("\n");
    this.#shown = "";
  }
}

/** Formats rows as an aligned table; numbers right-aligned. */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[], raw: readonly (string | number)[]) =>
    "| " +
    r.map((c, i) => (typeof raw[i] === "number" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(" | ") +
    " |";
  const sep = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [line(cells[0]!, header), sep, ...rows.map((r, i) => line(cells[i + 1]!, r))].join("\n");
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
