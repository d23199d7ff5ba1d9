/**
 * Child process of the memory workload: measures one implementation at one
 * size in a fresh runtime and prints the result as one JSON line.
 * Arguments: implementation name, n.
 *
 * @module
 */

import { implNamed, measureMemory } from "./_memory.ts";

const g = globalThis as unknown as { Deno?: { args: string[] }; process?: { argv: string[] } };
const argv = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
const [name, n] = argv;
const result = await measureMemory(implNamed(name!), Number(n));
console.log(JSON.stringify(result));
