import { AGGREGATORS, type AggregationMethod, type Answer } from './aggregation/index';
import { honeypotReliability, LAPLACE } from './aggregation/annotator-reliability';
import { linePosterior, type LineVerdict } from './aggregation/line-consensus';

/**
 * cRLHF's reliability and consensus over one iteration's line labels (Wong & Tan 2025). Every
 * annotator's reliability p_i starts from their honeypot accuracy (Beta(1, 1)-smoothed) and is
 * refined by agreement: each of their labels on an ordinary line is credited with the posterior
 * probability, from the OTHER annotators' labels weighted by their current p, that it is right.
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
  prior: number;
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

export function estimateReliability(items: readonly LabelledItem[], submissions: readonly ItemLabels[], o: ReliabilityOptions): Map<string, AnnotatorReliability> {
  const byId = new Map(items.map((i) => [i.itemId, i]));
  const known = (itemId: string) => (o.hide?.has(itemId) ? undefined : byId.get(itemId)?.knownCorrect);
  const honeypotLabels: { item: string; annotator: string; verdict: LineVerdict }[] = [];
  const knownVerdicts = new Map<string, LineVerdict>();
  const annotators = new Set<string>();
  for (const s of submissions) {
    annotators.add(s.annotator);
    const truth = known(s.itemId);
    if (!truth) continue;
    s.labels.forEach((verdict, i) => {
      const key = `${s.itemId}:${i + 1}`;
      knownVerdicts.set(key, truth[i] ? 'correct' : 'wrong');
      honeypotLabels.push({ item: key, annotator: s.annotator, verdict });
    });
  }
  const hp = honeypotReliability(honeypotLabels, knownVerdicts, LAPLACE);
  const p = new Map([...annotators].map((a) => [a, clamp(hp.get(a)?.reliability ?? 0.5)]));
  const perItem = new Map<string, ItemLabels[]>();
  for (const s of submissions) perItem.set(s.itemId, [...(perItem.get(s.itemId) ?? []), s]);
  for (let round = 0; round < o.agreementRounds; round++) {
    const soft = new Map<string, { agree: number; labels: number }>();
    for (const [itemId, subs] of perItem) {
      if (known(itemId) || subs.length < 2) continue;
      const lines = subs[0]!.labels.length;
      for (let line = 0; line < lines; line++) {
        for (const s of subs) {
          const others = subs.filter((t) => t !== s).map((t) => ({ reliability: p.get(t.annotator)!, verdict: t.labels[line]! }));
          const q = linePosterior(others, o.prior);
          const entry = soft.get(s.annotator) ?? { agree: 0, labels: 0 };
          soft.set(s.annotator, entry);
          entry.agree += s.labels[line] === 'correct' ? q : 1 - q;
          entry.labels += 1;
        }
      }
    }
    for (const a of annotators) {
      const h = hp.get(a) ?? { agreements: 0, labels: 0 };
      const sa = soft.get(a) ?? { agree: 0, labels: 0 };
      p.set(a, clamp((h.agreements + sa.agree + LAPLACE.agree) / (h.labels + sa.labels + LAPLACE.agree + LAPLACE.disagree)));
    }
  }
  const itemsOf = (a: string) => submissions.filter((s) => s.annotator === a).length;
  return new Map(
    [...annotators].sort().map((a) => {
      const h = hp.get(a);
      return [a, { annotator: a, estimated: p.get(a)!, honeypotLines: h?.labels ?? 0, honeypotAccuracy: h && h.labels > 0 ? h.agreements / h.labels : undefined, labelledItems: itemsOf(a) }];
    }),
  );
}

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
        subs[0]!.labels.map((_l, line) => linePosterior(subs.filter((s) => reliabilities.has(s.annotator)).map((s) => ({ reliability: reliabilities.get(s.annotator)!, verdict: s.labels[line]! })), prior)),
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
