// Model tests of the core's two structures alone, as funkia/list tests its tree: random command
// sequences run on the table (`_table.ts`, over `_entries.ts`) against a `Map`, and on the
// expiry order (`_order.ts`) against a sorted array, with every invariant of the structure
// checked (tests/_check.ts) after every command. Keys come from a small alphabet so that hash
// collisions, probe runs and backward shifts are frequent; expiries from a small range so that
// ties, list ends and the heap all get their turn.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Entries, hashKey } from "../../src/core/_entries.ts";
import { Table } from "../../src/core/_table.ts";
import { Order } from "../../src/core/_order.ts";
import { checkEntries, checkOrder, checkTable } from "../_check.ts";
import { fcCommandsConstraints, fcParams } from "../_fc.ts";

// ---------------------------------------------------------------------------
// The table against a Map

interface TableReal {
  readonly E: Entries;
  readonly table: Table;
  /** The entry of each key in the table. */
  readonly entries: Map<string, number>;
}
type TableModel = { keys: Map<string, true> };
type TableCommand = fc.Command<TableModel, TableReal>;

function keyText(version: number, id: Uint8Array): string {
  return `${version}:${Array.from(id).join(",")}`;
}

/** Only the table's part of an entry: version, id, hash (the order is not used here). */
function insertKey(r: TableReal, version: number, id: Uint8Array): void {
  const e = r.E.allocate();
  r.E.version[e] = version;
  r.E.setId(e, id, id.length);
  r.E.hash[e] = hashKey(version, id, id.length);
  r.E.sessions[e] = { id, time: 0, timeout: 0 };
  r.E.expSec[e] = 0;
  r.E.expMicro[e] = 0;
  r.table.insert(r.E, e);
  r.entries.set(keyText(version, id), e);
}

function checkTableAgainst(m: TableModel, r: TableReal): void {
  const live = [...r.entries.values()];
  checkTable(r.table, r.E);
  checkEntries(r.E, live);
  assert.equal(r.table.count, m.keys.size);
}

const keyArb = fc.record({
  version: fc.constantFrom(0, 0x0303),
  id: fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => a.map((b) => b % 4)),
});

class TableInsert implements TableCommand {
  constructor(readonly version: number, readonly id: Uint8Array) {}
  check(m: Readonly<TableModel>): boolean {
    return !m.keys.has(keyText(this.version, this.id));
  }
  run(m: TableModel, r: TableReal): void {
    insertKey(r, this.version, this.id);
    m.keys.set(keyText(this.version, this.id), true);
    checkTableAgainst(m, r);
  }
  toString(): string {
    return `insert(${keyText(this.version, this.id)})`;
  }
}

class TableRemove implements TableCommand {
  constructor(readonly version: number, readonly id: Uint8Array) {}
  check(m: Readonly<TableModel>): boolean {
    return m.keys.has(keyText(this.version, this.id));
  }
  run(m: TableModel, r: TableReal): void {
    const key = keyText(this.version, this.id);
    const e = r.entries.get(key)!;
    r.table.remove(r.E, e);
    r.E.free(e);
    r.entries.delete(key);
    m.keys.delete(key);
    checkTableAgainst(m, r);
  }
  toString(): string {
    return `remove(${keyText(this.version, this.id)})`;
  }
}

class TableFind implements TableCommand {
  constructor(readonly version: number, readonly id: Uint8Array) {}
  check(): boolean {
    return true;
  }
  run(m: TableModel, r: TableReal): void {
    const key = keyText(this.version, this.id);
    const h = hashKey(this.version, this.id, this.id.length);
    const found = r.table.find(r.E, h, this.version, this.id, this.id.length);
    assert.equal(found, m.keys.has(key) ? r.entries.get(key) : -1, `find(${key})`);
  }
  toString(): string {
    return `find(${keyText(this.version, this.id)})`;
  }
}

// ---------------------------------------------------------------------------
// The order against a sorted array

interface OrderReal {
  readonly E: Entries;
  readonly order: Order;
  readonly live: Set<number>;
}
/** Entries in ascending (expiry, seq) order. */
type OrderModel = {
  sorted: { e: number; expiry: number; seq: number }[];
  nextSeq: number;
  /** Sequence numbers below every other, for re-inserts (as undoing a removal does). */
  oldSeq: number;
};
type OrderCommand = fc.Command<OrderModel, OrderReal>;

function modelInsert(m: OrderModel, item: { e: number; expiry: number; seq: number }): void {
  let i = 0;
  while (
    i < m.sorted.length &&
    (m.sorted[i]!.expiry < item.expiry ||
      (m.sorted[i]!.expiry === item.expiry && m.sorted[i]!.seq < item.seq))
  ) i++;
  m.sorted.splice(i, 0, item);
}

function checkOrderAgainst(m: OrderModel, r: OrderReal): void {
  checkOrder(r.order, r.E, [...r.live]);
  assert.deepEqual(r.order.sorted(r.E), m.sorted.map((x) => x.e), "sorted()");
  assert.equal(r.order.soonest(r.E), m.sorted[0]?.e ?? -1, "soonest()");
}

class OrderInsert implements OrderCommand {
  /** `old`: re-insert with an old sequence number (as undoing a removal does). */
  constructor(readonly expiry: number, readonly old: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: OrderModel, r: OrderReal): void {
    const e = r.E.allocate();
    const seq = this.old ? m.oldSeq-- : m.nextSeq++;
    // Half seconds: ties in the seconds, told apart by the microseconds.
    r.E.expSec[e] = Math.floor(this.expiry);
    r.E.expMicro[e] = this.expiry === Infinity ? 0 : (this.expiry % 1) * 1e6;
    r.E.seq[e] = seq;
    r.order.insert(r.E, e);
    r.live.add(e);
    modelInsert(m, { e, expiry: this.expiry, seq });
    checkOrderAgainst(m, r);
  }
  toString(): string {
    return `insert(expiry ${this.expiry}${this.old ? ", old seq" : ""})`;
  }
}

class OrderRemove implements OrderCommand {
  constructor(readonly pick: number) {}
  check(m: Readonly<OrderModel>): boolean {
    return m.sorted.length > 0;
  }
  run(m: OrderModel, r: OrderReal): void {
    const i = this.pick % m.sorted.length;
    const { e } = m.sorted[i]!;
    r.order.remove(r.E, e);
    r.live.delete(e);
    r.E.free(e);
    m.sorted.splice(i, 1);
    checkOrderAgainst(m, r);
  }
  toString(): string {
    return `remove(#${this.pick})`;
  }
}

class OrderRemoveSoonest implements OrderCommand {
  check(m: Readonly<OrderModel>): boolean {
    return m.sorted.length > 0;
  }
  run(m: OrderModel, r: OrderReal): void {
    const e = r.order.soonest(r.E);
    assert.equal(e, m.sorted[0]!.e);
    r.order.remove(r.E, e);
    r.live.delete(e);
    r.E.free(e);
    m.sorted.shift();
    checkOrderAgainst(m, r);
  }
  toString(): string {
    return "removeSoonest()";
  }
}

describe("the table (_table.ts) against a Map", () => {
  it("agrees with the Map and keeps its invariants after every command", () => {
    fc.assert(
      fc.property(
        fc.commands([
          keyArb.map((k) => new TableInsert(k.version, k.id)),
          keyArb.map((k) => new TableInsert(k.version, k.id)),
          keyArb.map((k) => new TableRemove(k.version, k.id)),
          keyArb.map((k) => new TableFind(k.version, k.id)),
        ], fcCommandsConstraints({ size: "+1" })),
        (cmds) => {
          fc.modelRun(() => ({
            model: { keys: new Map() },
            real: { E: new Entries(0), table: new Table(), entries: new Map() },
          }), cmds);
        },
      ),
      fcParams({ numRuns: 200 }),
    );
  });
});

describe("the expiry order (_order.ts) against a sorted array", () => {
  it("agrees with the sorted array and keeps its invariants after every command", () => {
    const expiryArb = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }).map((x) => x / 2) },
      { weight: 1, arbitrary: fc.constant(Infinity) },
    );
    fc.assert(
      fc.property(
        fc.commands([
          expiryArb.map((x) => new OrderInsert(x, false)),
          expiryArb.map((x) => new OrderInsert(x, false)),
          expiryArb.map((x) => new OrderInsert(x, true)),
          fc.nat().map((p) => new OrderRemove(p)),
          fc.constant(null).map(() => new OrderRemoveSoonest()),
        ], fcCommandsConstraints({ size: "+1" })),
        (cmds) => {
          fc.modelRun(() => ({
            model: { sorted: [], nextSeq: 0, oldSeq: -1 },
            real: { E: new Entries(0), order: new Order(), live: new Set() },
          }), cmds);
        },
      ),
      fcParams({ numRuns: 200 }),
    );
  });
});
