// A deep copy of plain data (the model's state: objects, arrays, Maps, Sets, primitives), several
// times faster than structuredClone for the small, many-object states an explorer saves and
// restores at every choice point. Shared references inside the value stay shared in the copy
// (like structuredClone); anything that is not plain data is a programming error and throws.
// Shared constants (`sharedConstant`: deep-frozen plain data, such as the empty lists and zero
// counters every new device starts with) are not copied: the copy refers to the same constant.

/** Values registered by `sharedConstant`: deep-frozen, shared by reference by every copy. */
const SHARED = new WeakSet<object>();

/**
 * Deep-freezes plain data and registers it as a shared constant: `clonePlain` keeps it by
 * reference instead of copying it. For values many records start with and few ever change (a
 * new device's empty adjacency lists, zero statistics): a writer replaces the constant with its
 * own copy first (copy on write); writing into the constant throws (it is frozen).
 *
 * @example
 * const NONE = sharedConstant([] as string[]);
 * clonePlain({ a: NONE }).a === NONE; // true
 */
export function sharedConstant<T extends object>(v: T): Readonly<T> {
  for (const x of Object.values(v))
    if (x !== null && typeof x === "object" && !SHARED.has(x)) sharedConstant(x);
  Object.freeze(v);
  SHARED.add(v);
  return v;
}

/**
 * Deep-copies plain data: primitives, arrays, plain objects (prototype Object or null), Maps and
 * Sets, nested in any way. Aliasing is preserved: an object reached twice is copied once.
 * `substitutes` maps objects of `v` to what the copy holds instead of a copy of them (a caller
 * that already has an equal object, such as a kernel restore keeping an unchanged device). A
 * substitute stands for the whole object: nothing else in `v` may refer to an object inside it.
 *
 * @throws TypeError on a function, a symbol, a class instance or any other non-plain value.
 * @example
 * const s = { devices: new Map([[1, { name: "eth0" }]]) };
 * const c = clonePlain(s); // c.devices.get(1) !== s.devices.get(1), same contents
 */
export function clonePlain<T>(v: T, substitutes?: ReadonlyMap<object, unknown>): T {
  return copy(v, substitutes === undefined ? new Map() : new Map(substitutes)) as T;
}

function copy(v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== "object") {
    if (typeof v === "function" || typeof v === "symbol")
      throw new TypeError(`clonePlain: cannot copy a ${typeof v}`);
    return v;
  }
  const hit = seen.get(v);
  if (hit !== undefined) return hit;
  if (SHARED.has(v)) return v;
  if (Array.isArray(v)) {
    // A shallow copy first (one native call), then the elements that are not primitives.
    const out = v.slice();
    seen.set(v, out);
    for (let i = 0; i < out.length; i++) {
      const x = out[i];
      if (x !== null && (typeof x === "object" || typeof x === "function" || typeof x === "symbol"))
        out[i] = copy(x, seen);
    }
    return out;
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(v, out);
    for (const [k, x] of v) out.set(copy(k, seen), copy(x, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set<unknown>();
    seen.set(v, out);
    for (const x of v) out.add(copy(x, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null)
    throw new TypeError(
      `clonePlain: cannot copy an instance of ${(proto as { constructor?: { name?: string } }).constructor?.name ?? "an unknown class"}`,
    );
  if (proto === Object.prototype) {
    const fast = recordCopier(v as object);
    if (fast !== null) return fast(v, copy, seen);
  }
  // A shallow copy first (own enumerable properties, an own "__proto__" key staying a key),
  // then the values that are not primitives.
  const out: Record<string, unknown> =
    proto === null ? Object.assign(Object.create(null), v) : { ...(v as object) };
  seen.set(v, out);
  for (const k in out) {
    const x = out[k];
    if (x === null || (typeof x !== "object" && typeof x !== "function" && typeof x !== "symbol"))
      continue;
    const c = copy(x, seen);
    // An own "__proto__" key must stay a key (an assignment would set the prototype).
    if (k === "__proto__")
      Object.defineProperty(out, k, {
        value: c,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[k] = c;
  }
  return out;
}

/** A record's copier: a shallow copy, then each field that holds an object copied. */
type Copier = (
  v: unknown,
  copy: (x: unknown, seen: Map<object, unknown>) => unknown,
  seen: Map<object, unknown>,
) => unknown;

/** Records with at least this many keys get a copier of their own (the kernel's devices). */
const RECORD_KEYS = 16;

/** Copiers by key list (a handful of record shapes; none made past 64). */
const COPIERS: { readonly keys: readonly string[]; readonly fn: Copier }[] = [];

/**
 * A copier for plain objects with `v`'s keys, in order, or null for small objects and for key
 * lists it does not take ("__proto__"). A copy loop over a large record's keys reads each field
 * by a computed key; a function written for the key list reads each by its name, which the engine
 * makes several times faster (devices: about 2×). Its fields are checked and copied exactly as
 * the loop does (`copy` throws on a function or a symbol). The code is generated from the keys
 * themselves, each written as a JSON string literal.
 */
function recordCopier(v: object): Copier | null {
  const keys = Object.keys(v);
  if (keys.length < RECORD_KEYS) return null;
  for (const c of COPIERS) if (sameKeys(c.keys, keys)) return c.fn;
  if (COPIERS.length >= 64 || keys.includes("__proto__")) return null;
  const lines = ["const o = { ...v };", "seen.set(v, o);", "let x;"];
  for (const k of keys) {
    const at = `o[${JSON.stringify(k)}]`;
    lines.push(
      `x = ${at};`,
      `if (x !== null && (typeof x === "object" || typeof x === "function" || typeof x === "symbol")) ${at} = copy(x, seen);`,
    );
  }
  lines.push("return o;");
  const fn = new Function("v", "copy", "seen", lines.join("\n")) as Copier;
  COPIERS.push({ keys, fn });
  return fn;
}

/** Whether two key lists are the same keys in the same order. */
export function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `a` and `b` are the same plain data written the same way: the same primitives, arrays
 * of the same length with the same elements, plain objects with the same keys in the same order
 * and the same values. When it says yes, `JSON.stringify` gives both the same text, so a caller
 * may keep the text of a copy it made (`clonePlain`) instead of writing the text again, which
 * costs several times more. It may say no where the texts are the same (Maps, Sets, NaN, an
 * undefined field): that costs the caller a new text, never a wrong one.
 *
 * @example
 * sameData({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }); // true
 * sameData({ a: 1, b: 2 }, { b: 2, a: 1 }); // false: another text
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const pa = Object.getPrototypeOf(a);
  if ((pa !== Object.prototype && pa !== null) || Object.getPrototypeOf(b) !== pa) return false;
  const kb = Object.keys(b);
  let i = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) return false;
    if (kb[i++] !== k) return false;
    const x = (a as Record<string, unknown>)[k];
    if (x === undefined || !sameData(x, (b as Record<string, unknown>)[k])) return false;
  }
  return i === kb.length;
}
