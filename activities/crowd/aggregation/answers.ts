/**
 * The input every aggregator shares: a table of crowd answers `{task, worker, label}` (any string
 * labels, any number of classes, tasks need not be answered by every worker), indexed once into
 * integer codes so the methods can work on arrays.
 */
export interface Answer {
  task: string;
  worker: string;
  label: string;
}

/** A string-keyed record that is safe for any key (a task called "__proto__" is just a key). */
export type Table<V> = Record<string, V>;

export function emptyTable<V>(): Table<V> {
  return Object.create(null) as Table<V>;
}

/** What every method returns; the estimates are the method's own (those it has). */
export interface AggregationResult {
  /** the aggregated label of every task */
  labels: Table<string>;
  /** probas[task][label]: the probability that the task's true label is `label` (every label of the table) */
  probas: Table<Table<number>>;
  /** per worker: agreement with the aggregate (MV, Wawa), accuracy (one-coin DS), ability alpha (GLAD) */
  skills?: Table<number>;
  /** Dawid-Skene confusion matrices: errors[worker][observed label][true label] */
  errors?: Table<Table<Table<number>>>;
  /** class priors (Dawid-Skene variants) */
  priors?: Table<number>;
  /** GLAD's per-task difficulty parameter beta (1/difficulty is exp(beta)) */
  difficulties?: Table<number>;
  /** MACE: per worker the posterior weights of its [spamming, knowing] states (crowd-kit's spamming_ row) */
  spamming?: Table<[number, number]>;
  /** MACE: per worker the label distribution it answers with when spamming */
  thetas?: Table<Table<number>>;
  /** EM iterations run (iterative methods) */
  iterations?: number;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The order in which a column's values sort, as pandas would sort that column after read_csv:
 * numerically when every value is a number (pandas reads such a column as numbers, so "2" comes
 * before "10"), otherwise by Unicode code point (Python's string order). The reference breaks
 * ties and lays out columns in this order, so it decides which label wins a tie.
 */
export function columnOrder(values: readonly string[]): (a: string, b: string) => number {
  if (values.length > 0 && values.every((v) => NUMBER.test(v))) {
    return (a, b) => Number(a) - Number(b) || compareCodePoints(a, b);
  }
  return compareCodePoints;
}

export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Integer-coded answers. Names are kept in order of first appearance (pandas' unique/factorize
 * order); `sortedLabels` etc. are the same names in column order (see columnOrder).
 */
export class AnswerIndex {
  readonly tasks: string[] = [];
  readonly workers: string[] = [];
  readonly labels: string[] = [];
  /** per answer: codes into tasks / workers / labels (first-appearance order) */
  readonly task: Int32Array;
  readonly worker: Int32Array;
  readonly label: Int32Array;
  /** label codes in column order, and each label code's rank in it */
  readonly sortedLabels: number[];
  /**
   * label codes in order of first appearance: crowd-kit's unweighted vote table (value_counts,
   * then unstack, under pandas 3) lays its columns out so, and idxmax gives a tie to the first
   */
  readonly appearanceLabels: number[];
  readonly labelRank: Int32Array;
  readonly sortedWorkers: number[];
  readonly workerRank: Int32Array;
  /** answers of each task / worker, as answer positions */
  readonly byTask: number[][];
  readonly byWorker: number[][];

  constructor(readonly answers: readonly Answer[]) {
    if (answers.length === 0) throw new RangeError('no answers to aggregate');
    const n = answers.length;
    this.task = new Int32Array(n);
    this.worker = new Int32Array(n);
    this.label = new Int32Array(n);
    const codeOf = (codes: Map<string, number>, names: string[], value: string) => {
      let code = codes.get(value);
      if (code === undefined) {
        code = names.length;
        codes.set(value, code);
        names.push(value);
      }
      return code;
    };
    const taskCodes = new Map<string, number>();
    const workerCodes = new Map<string, number>();
    const labelCodes = new Map<string, number>();
    answers.forEach((a, i) => {
      this.task[i] = codeOf(taskCodes, this.tasks, a.task);
      this.worker[i] = codeOf(workerCodes, this.workers, a.worker);
      this.label[i] = codeOf(labelCodes, this.labels, a.label);
    });
    [this.sortedLabels, this.labelRank] = sortCodes(this.labels);
    this.appearanceLabels = this.labels.map((_, k) => k);
    [this.sortedWorkers, this.workerRank] = sortCodes(this.workers);
    this.byTask = this.tasks.map(() => []);
    this.byWorker = this.workers.map(() => []);
    for (let i = 0; i < n; i++) {
      this.byTask[this.task[i]!]!.push(i);
      this.byWorker[this.worker[i]!]!.push(i);
    }
  }

  get size(): number {
    return this.answers.length;
  }

  /** probas (rows = task codes, columns = label codes) as a result table, columns in column order */
  probaTable(probas: readonly Float64Array[]): Table<Table<number>> {
    const out = emptyTable<Table<number>>();
    this.tasks.forEach((task, t) => {
      const row = emptyTable<number>();
      for (const k of this.sortedLabels) row[this.labels[k]!] = probas[t]![k]!;
      out[task] = row;
    });
    return out;
  }

  /** the most probable label of every task; ties go to the first label in `order` (label codes) */
  argmaxLabels(probas: readonly Float64Array[], order: readonly number[] = this.sortedLabels): Table<string> {
    const out = emptyTable<string>();
    this.tasks.forEach((task, t) => {
      const row = probas[t]!;
      let best = order[0]!;
      for (const k of order) if (row[k]! > row[best]!) best = k;
      out[task] = this.labels[best]!;
    });
    return out;
  }

  workerTable(values: ArrayLike<number>): Table<number> {
    const out = emptyTable<number>();
    this.workers.forEach((w, i) => (out[w] = values[i]!));
    return out;
  }

  labelTable(values: ArrayLike<number>): Table<number> {
    const out = emptyTable<number>();
    for (const k of this.sortedLabels) out[this.labels[k]!] = values[k]!;
    return out;
  }
}

function sortCodes(names: readonly string[]): [number[], Int32Array] {
  const compare = columnOrder(names);
  const sorted = names.map((_, i) => i).sort((a, b) => compare(names[a]!, names[b]!));
  const rank = new Int32Array(names.length);
  sorted.forEach((code, r) => (rank[code] = r));
  return [sorted, rank];
}

/** rows x columns of zeros */
export function matrix(rows: number, columns: number): Float64Array[] {
  return Array.from({ length: rows }, () => new Float64Array(columns));
}
