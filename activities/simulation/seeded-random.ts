import { createHash } from 'node:crypto';

/**
 * A deterministic random stream keyed by any JSON-able parts, e.g. (seed, taskId, sampleIndex,
 * checkpoint). The same key gives the same stream on every machine and every retry: it is what
 * makes sampled generations and simulated outputs reproducible.
 *
 * SHA-256 of the key seeds xoshiro128** (Blackman & Vigna), a small, well-tested generator.
 */
export class SeededRandom {
  private s: Uint32Array;

  constructor(...keyParts: unknown[]) {
    const digest = createHash('sha256').update(JSON.stringify(keyParts)).digest();
    this.s = new Uint32Array([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]);
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }

  /** next 32-bit unsigned integer */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ s[2]!;
    s[0] = s0 ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** uniform in [0, 1) with 32 bits of resolution */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}

/** a seeded Fisher-Yates permutation of a copy of `xs` */
export function shuffled<T>(xs: readonly T[], rng: SeededRandom): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * mulberry32: a tiny seeded stream of [0, 1) numbers from one integer seed. The sandbox's
 * seeded task samples use it, so the samples its tests pin stay the same.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
