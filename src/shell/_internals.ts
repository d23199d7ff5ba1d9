// This module is browser compatible.

/**
 * A door for the test suite into a `SessionCache`: its current value, read
 * WITHOUT handing it out (`SessionCache.state` marks the value as held
 * elsewhere, which changes how the cache records its changes). The invariant
 * checks of the shell's model suite read the cache through it.
 *
 * Internal: not re-exported from any entry point.
 *
 * @module
 */

import type { CacheState } from "../core/cache_state.ts";

/** Each cache's reader of its current value. */
export const CURRENT_STATE: WeakMap<object, () => CacheState> = new WeakMap();
