/**
 * Counters, owned by the parts that count them. Each part keeps its own and registers
 * them once, under its own name, in a {@linkcode MetricsRegistry} (as a Go program
 * publishes an `expvar.Map`): nothing copies counters from one part to another, and no
 * counter name belongs to two parts, which the registry checks when a part registers.
 * The `--metrics-file` record and the `--log-metrics` summary are read from it.
 *
 * @module
 */

/** A part's counters as they stand: each name to its value. */
export type Counters = Readonly<Record<string, number>>;

/** Something that keeps counters of its own. */
export interface Counted {
  /**
   * The counters as they stand now. Every call returns the same names.
   *
   * @returns Each counter's name and value.
   */
  counters(): Counters;
}

/**
 * The parts' counters, by part.
 *
 * @example Two parts, one record
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsRegistry } from "./metrics.ts";
 *
 * const registry = new MetricsRegistry();
 * let gets = 0;
 * registry.register("engine", { counters: () => ({ gets }) });
 * registry.register("uploads", { counters: () => ({ uploads: 3 }) });
 * gets = 2;
 * assert.deepEqual(registry.record(), { gets: 2, uploads: 3 });
 * assert.throws(() => registry.register("other", { counters: () => ({ gets: 0 }) }), TypeError);
 * ```
 */
export class MetricsRegistry {
  #parts = new Map<string, Counted>();
  #owners = new Map<string, string>();

  /**
   * Registers a part's counters.
   *
   * @param part The part's name, such as `uploads`.
   * @param source Reads the part's counters.
   * @throws {TypeError} If the part's name is taken, or one of its counters' names is
   * another part's.
   */
  register(part: string, source: Counted): void {
    if (this.#parts.has(part)) throw new TypeError(`The part "${part}" is registered already`);
    const names = Object.keys(source.counters());
    for (const name of names) {
      const owner = this.#owners.get(name);
      if (owner !== undefined) {
        throw new TypeError(`The counter "${name}" of "${part}" is already "${owner}"'s`);
      }
    }
    for (const name of names) this.#owners.set(name, part);
    this.#parts.set(part, source);
  }

  /**
   * Whether a part is registered.
   *
   * @param part The part's name.
   * @returns `true` when it is.
   */
  has(part: string): boolean {
    return this.#parts.has(part);
  }

  /**
   * Every part's counters, in one object: each name is one part's.
   *
   * @returns The counters by name.
   */
  record(): Record<string, number> {
    const record: Record<string, number> = {};
    for (const source of this.#parts.values()) Object.assign(record, source.counters());
    return record;
  }
}
