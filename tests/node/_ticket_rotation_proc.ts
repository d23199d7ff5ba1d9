/**
 * A process whose only pending work is a TicketKeyRotation's timers: one
 * rotation whose next boundary is 2^31 - 1 ms (24.8 days) away, and one whose
 * source never answers, with a deadline of 2^31 - 1 ms. It prints `waiting`
 * and must then exit by itself, at once: the timers are unref-ed.
 *
 * Run by tests/node/ticket_key_rotation_test.ts on the runtime of the tests.
 *
 * @module
 */

import process from "node:process";
import { TicketKeyRotation } from "../../node.ts";

const LONGEST = 2 ** 31 - 1;
const key = crypto.getRandomValues(new Uint8Array(48));
const answering = new TicketKeyRotation({ ticketKey: () => Promise.resolve(key) }, {
  rotationMs: LONGEST,
  prefetchMs: 0,
});
await answering.ready();
new TicketKeyRotation({ ticketKey: () => new Promise<Uint8Array>(() => {}) }, {
  timeoutMs: LONGEST,
});
process.stdout.write("waiting\n");
