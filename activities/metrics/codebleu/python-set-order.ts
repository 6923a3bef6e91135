/**
 * The order of `list(set(names))` in CPython 3.11 with PYTHONHASHSEED=0.
 *
 * Why this exists: the CodeBLEU reference merges data-flow edges with list(set(...)) over variable
 * names and then compares the resulting lists order-sensitively, so its data-flow score depends on
 * the string hash seed (random per process by default). Reproducing one fixed realisation, the
 * one with hash randomisation disabled, makes our score deterministic and equal to the reference
 * run with PYTHONHASHSEED=0. This emulates exactly what that needs: str hashing (SipHash-1-3 with
 * a zero key over the string's internal 1/2/4-byte representation) and the set table's insertion
 * and resizing (Objects/setobject.c: linear probes of 9, perturbation shift 5, growth at 3/5 full).
 */

const MASK64 = (1n << 64n) - 1n;

function rotl(x: bigint, bits: bigint): bigint {
  return ((x << bits) | (x >> (64n - bits))) & MASK64;
}

function sipRound(v: [bigint, bigint, bigint, bigint]): void {
  let [v0, v1, v2, v3] = v;
  v0 = (v0 + v1) & MASK64;
  v2 = (v2 + v3) & MASK64;
  v1 = rotl(v1, 13n) ^ v0;
  v3 = rotl(v3, 16n) ^ v2;
  v0 = rotl(v0, 32n);
  v2 = (v2 + v1) & MASK64;
  v0 = (v0 + v3) & MASK64;
  v1 = rotl(v1, 17n) ^ v2;
  v3 = rotl(v3, 21n) ^ v0;
  v2 = rotl(v2, 32n);
  v[0] = v0;
  v[1] = v1;
  v[2] = v2;
  v[3] = v3;
}

/** SipHash-1-3 with key (0, 0), as unsigned 64-bit. */
function sipHash13ZeroKey(bytes: Uint8Array): bigint {
  const v: [bigint, bigint, bigint, bigint] = [0x736f6d6570736575n, 0x646f72616e646f6dn, 0x6c7967656e657261n, 0x7465646279746573n];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fullWords = Math.floor(bytes.length / 8);
  for (let w = 0; w < fullWords; w++) {
    const m = view.getBigUint64(w * 8, true);
    v[3] ^= m;
    sipRound(v);
    v[0] ^= m;
  }
  let last = BigInt(bytes.length & 0xff) << 56n;
  for (let i = fullWords * 8; i < bytes.length; i++) last |= BigInt(bytes[i]!) << BigInt(8 * (i - fullWords * 8));
  v[3] ^= last;
  sipRound(v);
  v[0] ^= last;
  v[2] ^= 0xffn;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/** The bytes CPython hashes for a str: its code points as 1, 2 or 4 little-endian bytes each (PEP 393). */
function cpythonStrBytes(s: string): Uint8Array {
  const codePoints = Array.from(s, (ch) => ch.codePointAt(0)!);
  const max = codePoints.reduce((m, cp) => Math.max(m, cp), 0);
  const width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  const bytes = new Uint8Array(codePoints.length * width);
  codePoints.forEach((cp, i) => {
    for (let b = 0; b < width; b++) bytes[i * width + b] = (cp >>> (8 * b)) & 0xff;
  });
  return bytes;
}

/** hash(s) under PYTHONHASHSEED=0, as the unsigned 64-bit value setobject.c masks and shifts. */
export function cpythonStrHash(s: string): bigint {
  if (s.length === 0) return 0n;
  const h = sipHash13ZeroKey(cpythonStrBytes(s));
  // CPython reserves -1 (all ones) as an error marker and maps it to -2.
  return h === MASK64 ? MASK64 - 1n : h;
}

const LINEAR_PROBES = 9;
const PERTURB_SHIFT = 5n;
const MIN_SIZE = 8;

interface Slot {
  key: string;
  hash: bigint;
}

/** setobject.c set_insert_clean: place a key known to be absent (used when resizing). */
function insertClean(table: (Slot | undefined)[], slot: Slot): void {
  const mask = table.length - 1;
  let perturb = slot.hash;
  let i = Number(slot.hash & BigInt(mask));
  for (;;) {
    if (!table[i]) {
      table[i] = slot;
      return;
    }
    if (i + LINEAR_PROBES <= mask) {
      for (let j = 1; j <= LINEAR_PROBES; j++) {
        if (!table[i + j]) {
          table[i + j] = slot;
          return;
        }
      }
    }
    perturb >>= PERTURB_SHIFT;
    i = Number((BigInt(i) * 5n + 1n + perturb) & BigInt(mask));
  }
}

function resized(table: (Slot | undefined)[], used: number): (Slot | undefined)[] {
  const minUsed = used * 4;
  let size = MIN_SIZE;
  while (size <= minUsed) size *= 2;
  const next: (Slot | undefined)[] = new Array<Slot | undefined>(size).fill(undefined);
  for (const slot of table) if (slot) insertClean(next, slot);
  return next;
}

/** `list(set(items))` for a list of str in CPython 3.11 with PYTHONHASHSEED=0. */
export function pythonSetOrder(items: readonly string[]): string[] {
  let table: (Slot | undefined)[] = new Array<Slot | undefined>(MIN_SIZE).fill(undefined);
  let used = 0;
  for (const key of items) {
    const hash = cpythonStrHash(key);
    const mask = table.length - 1;
    let perturb = hash;
    let i = Number(hash & BigInt(mask));
    let placed = false;
    search: for (;;) {
      const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
      for (let j = 0; j <= probes; j++) {
        const slot = table[i + j];
        if (!slot) {
          table[i + j] = { key, hash };
          placed = true;
          break search;
        }
        if (slot.hash === hash && slot.key === key) break search;
      }
      perturb >>= PERTURB_SHIFT;
      i = Number((BigInt(i) * 5n + 1n + perturb) & BigInt(mask));
    }
    if (placed) {
      used++;
      // No deletions happen here, so the table's fill equals `used`.
      if (used * 5 >= mask * 3) table = resized(table, used);
    }
  }
  return table.filter((slot): slot is Slot => slot !== undefined).map((slot) => slot.key);
}
