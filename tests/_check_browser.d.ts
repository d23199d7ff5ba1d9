/** Types of scripts/check_browser.mjs, for the tests that import it. */
export function checkBrowserEntry(
  entry: string,
  options?: { root?: string },
): Promise<{ ok: boolean; problems: string[]; files: string[] }>;
