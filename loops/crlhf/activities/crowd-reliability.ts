import { AGGREGATORS, type AggregationMethod, type Answer } from '../../../activities/crowd/aggregation/index';
import { linePosterior, type LineVerdict } from '../../../activities/crowd/aggregation/line-consensus';

/**
 * cRLHF's reliability and consensus over one iteration's line labels (Wong & Tan 2025). Every
 * annotator's reliability p_i starts from their honeypot labels (class-balanced, Beta(1, 1)-
 * smoothed accuracy) and is refined by agreement: expected agreement with each ordinary line's
 * posterior from every label on it, weighted by the current p (EM, anchored by the honeypots'
 * known labels).
 * The line posterior is the paper's Bayesian update (prior odds times p_i/(1-p_i) per
 * "correct", its inverse per "wrong"); a program's reward is P(every line correct), the product.
 */
export interface LabelledItem {
  itemId: string;
  lineCount: number;
  /** honeypots: true = line known correct */
  knownCorrect?: boolean[];
}

export interface ItemLabels {
  itemId: string;
  annotator: string;
  labels: LineVerdict[];
}

export interface ReliabilityOptions {
  agreementRounds: number;
  /** items whose known labels are hidden from the estimate (held-out honeypot checks) */
  hide?: ReadonlySet<string>;
}

export interface AnnotatorReliability {
  annotator: string;
  estimated: number;
  honeypotLines: number;
  /** raw share of their honeypot labels that match the known ones (undefined: none) */
  honeypotAccuracy?: number;
  labelledItems: number;
}

/** Kept away from 0 and 1 so one annotator never decides a line alone. */
const clamp = (p: number) => Math.min(0.99, Math.max(0.01, p));

/** Agreements and labels on lines whose truth is "correct" and on those whose truth is "wrong". */
interface ClassCounts {
  agreeCorrect: number;
  onCorrect: number;
  agreeWrong: number;
  onWrong: number;
}
const emptyCounts = (): ClassCounts => ({ agreeCorrect: 0, onCorrect: 0, agreeWrong: 0, onWrong: 0 });

/** Laplace-smoothed P(says "correct" | line correct) and P(says "wrong" | line wrong). */
const sensitivity = (c: ClassCounts) => (c.agreeCorrect + 1) / (c.onCorrect + 2);
const specificity = (c: ClassCounts) => (c.agreeWrong + 1) / (c.onWrong + 2);

/**
 * p_i for the paper's update: the mean of the annotator's accuracy on correct and on wrong lines.
 * For an annotator who errs the same way on both, that is their accuracy, and p_i/(1-p_i) is
 * exactly the odds one of their labels moves a line by. An annotator who marks every line
 * "correct" is right on the (many) correct lines and never on the wrong ones: p_i = 0.5, their
 * labels move nothing, as they carry no information. (Plain accuracy would rate them by the share
 * of correct lines and let them outvote careful annotators.)
 */
const reliabilityOf = (c: ClassCounts) => clamp(0.5 * (sensitivity(c) + specificity(c)));

export interface ReliabilityEstimate {
  annotators: Map<string, AnnotatorReliability>;
  /** the estimated share of correct lines (known ones and the EM's posteriors) */
  shareCorrect: number;
}

export function estimateReliability(items: readonly LabelledItem[], submissions: readonly ItemLabels[], o: ReliabilityOptions): ReliabilityEstimate {
  const byId = new Map(items.map((i) => [i.itemId, i]));
  const known = (itemId: string) => (o.hide?.has(itemId) ? undefined : byId.get(itemId)?.knownCorrect);
  const annotators = [...new Set(submissions.map((s) => s.annotator))].sort();
  const honeypot = new Map(annotators.map((a) => [a, emptyCounts()]));
  let knownCorrect = 0;
  let knownLines = 0;
  for (const [itemId] of byId) {
    const truth = known(itemId);
    if (!truth) continue;
    knownLines += truth.length;
    knownCorrect += truth.filter(Boolean).length;
  }
  for (const s of submissions) {
    const truth = known(s.itemId);
    if (!truth) continue;
    const c = honeypot.get(s.annotator)!;
    s.labels.forEach((verdict, i) => {
      if (truth[i]) {
        c.onCorrect++;
        if (verdict === 'correct') c.agreeCorrect++;
      } else {
        c.onWrong++;
        if (verdict === 'wrong') c.agreeWrong++;
      }
    });
  }
  let counts = honeypot;
  // the share of correct lines, estimated with the truth (two-class EM needs it; the consensus keeps the paper's prior)
  let base = (knownCorrect + 1) / (knownLines + 2);
  const perItem = new Map<string, ItemLabels[]>();
  for (const s of submissions) perItem.set(s.itemId, [...(perItem.get(s.itemId) ?? []), s]);
  for (let round = 0; round < o.agreementRounds; round++) {
    // E step: each ordinary line's posterior with every annotator's two accuracies (Dawid-Skene
    // for two classes); M step: their expected counts against it, added to the honeypot counts.
    const step = new Map(annotators.map((a) => {
      const c = counts.get(a)!;
      const sens = sensitivity(c);
      const spec = specificity(c);
      return [a, { correct: Math.log(sens / (1 - spec)), wrong: Math.log((1 - sens) / spec) }];
    }));
    const next = new Map(annotators.map((a) => [a, { ...honeypot.get(a)! }]));
    let expectedCorrect = knownCorrect;
    let lines = knownLines;
    for (const [itemId, subs] of perItem) {
      if (known(itemId) || subs.length < 2) continue;
      for (let line = 0; line < subs[0]!.labels.length; line++) {
        let logit = Math.log(base / (1 - base));
        for (const t of subs) logit += t.labels[line] === 'correct' ? step.get(t.annotator)!.correct : step.get(t.annotator)!.wrong;
        const q = 1 / (1 + Math.exp(-logit));
        expectedCorrect += q;
        lines++;
        for (const s of subs) {
          const c = next.get(s.annotator)!;
          c.onCorrect += q;
          c.onWrong += 1 - q;
          if (s.labels[line] === 'correct') c.agreeCorrect += q;
          else c.agreeWrong += 1 - q;
        }
      }
    }
    counts = next;
    base = Math.min(0.99, Math.max(0.01, (expectedCorrect + 1) / (lines + 2)));
  }
  const out = new Map(
    annotators.map((a) => {
      const h = honeypot.get(a)!;
      const n = h.onCorrect + h.onWrong;
      const entry: AnnotatorReliability = {
        annotator: a,
        estimated: reliabilityOf(counts.get(a)!),
        honeypotLines: n,
        honeypotAccuracy: n > 0 ? (h.agreeCorrect + h.agreeWrong) / n : undefined,
        labelledItems: submissions.filter((s) => s.annotator === a).length,
      };
      return [a, entry] as const;
    }),
  );
  return { annotators: out, shareCorrect: base };
}

/**
 * The reliability a label is weighed with: an annotator estimated below chance is taken as noise
 * (p = 0.5, no weight), not as an oracle whose labels are to be flipped: a spammer's estimate
 * falls either side of 0.5 by luck.
 */
export const weightOf = (p: number) => Math.max(0.5, p);

/** P(line correct) per line of every item, by the Bayesian consensus or a standard aggregator. */
export function linePosteriors(
  method: 'consensus' | AggregationMethod,
  submissions: readonly ItemLabels[],
  reliabilities: ReadonlyMap<string, number>,
  prior: number,
): Map<string, number[]> {
  const perItem = new Map<string, ItemLabels[]>();
  for (const s of submissions) perItem.set(s.itemId, [...(perItem.get(s.itemId) ?? []), s]);
  const out = new Map<string, number[]>();
  if (method === 'consensus') {
    for (const [itemId, subs] of perItem) {
      out.set(
        itemId,
        subs[0]!.labels.map((_l, line) => linePosterior(subs.filter((s) => reliabilities.has(s.annotator)).map((s) => ({ reliability: weightOf(reliabilities.get(s.annotator)!), verdict: s.labels[line]! })), prior)),
      );
    }
    return out;
  }
  const answers: Answer[] = submissions.flatMap((s) => s.labels.map((label, line) => ({ task: `${s.itemId}:${line + 1}`, worker: s.annotator, label })));
  if (answers.length === 0) return out;
  const result = AGGREGATORS[method].aggregate(answers);
  for (const [itemId, subs] of perItem) {
    out.set(
      itemId,
      subs[0]!.labels.map((_l, line) => {
        const probas = result.probas[`${itemId}:${line + 1}`];
        const pc = probas?.correct ?? (result.labels[`${itemId}:${line + 1}`] === 'correct' ? 1 : 0);
        return Number.isFinite(pc) ? pc : 0.5;
      }),
    );
  }
  return out;
}

/** crowd-kit's majority vote per line (its tie-break), as booleans: true = "correct". */
export function majorityLines(submissions: readonly ItemLabels[]): Map<string, boolean[]> {
  const answers: Answer[] = submissions.flatMap((s) => s.labels.map((label, line) => ({ task: `${s.itemId}:${line + 1}`, worker: s.annotator, label })));
  const out = new Map<string, boolean[]>();
  if (answers.length === 0) return out;
  const mv = AGGREGATORS['majority-vote'].aggregate(answers);
  for (const s of submissions) {
    if (!out.has(s.itemId)) out.set(s.itemId, s.labels.map((_l, line) => mv.labels[`${s.itemId}:${line + 1}`] === 'correct'));
  }
  return out;
}
