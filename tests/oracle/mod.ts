/**
 * The second oracle: the project's first core (v0.1), a persistent hash trie plus a persistent
 * weight-balanced tree with path copying, kept as it was when `src/core/` was rewritten for
 * speed. Every old value of it is a real immutable structure, so fuzzing operations on old
 * values of the new core against this one catches undo bugs in the new core's history.
 *
 * Test-only: nothing in `src/` imports it. Its files are copies of `src/core/` at v0.1 (after
 * the layout change) with the imports pointed back at `src/`.
 *
 * @module
 */

export * from "./cache_state.ts";
export * from "./lookup.ts";
export * from "./handshake.ts";
