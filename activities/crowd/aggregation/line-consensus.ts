/**
 * cRLHF's Bayesian line consensus (Wong & Tan 2025, arXiv 2503.15129): annotators mark each line
 * of a generated program "correct" or "wrong"; every line starts at prior 0.5 and each label moves
 * its odds by the annotator's reliability p_i: times p_i / (1 - p_i) for "correct", times its
 * inverse for "wrong". A versioned rule turns the line posteriors into one reward per program.
 */

export type LineVerdict = 'correct' | 'wrong';

export interface LineLabel {
  /** 1-based line number in the program */
  line: number;
  annotator: string;
  verdict: LineVerdict;
}

/** Names the reward rule so stored rewards say how they were computed. */
export const CRLHF_CONSENSUS_V1 = 'crlhf-consensus-v1';

export interface ConsensusRule {
  version: typeof CRLHF_CONSENSUS_V1;
  /** prior probability that a line is correct (the paper: 0.5) */
  prior: number;
  /** a program is scorable only when every line has at least this many labels from annotators of known reliability */
  minLabelsPerLine: number;
}

export const DEFAULT_CONSENSUS_RULE: ConsensusRule = { version: CRLHF_CONSENSUS_V1, prior: 0.5, minLabelsPerLine: 1 };

export type ProgramConsensus =
  | {
      kind: 'scored';
      version: string;
      /** crlhf-consensus-v1: the probability that every line is correct, the product of the line posteriors */
      reward: number;
      /** posterior P(line correct), index 0 = line 1 */
      linePosteriors: number[];
      labelsPerLine: number[];
    }
  | {
      /** not enough labels to score: never a reward of 0, which would read as "all wrong" */
      kind: 'unscorable';
      version: string;
      reason: string;
      labelsPerLine: number[];
    };

function logOdds(p: number, what: string): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`${what} must be strictly between 0 and 1, got ${p}`);
  return Math.log(p / (1 - p));
}

/**
 * P(line correct | labels): prior odds times p/(1-p) per "correct" and (1-p)/p per "wrong",
 * summed in log-odds so that many labels do not overflow.
 */
export function linePosterior(labels: readonly { reliability: number; verdict: LineVerdict }[], prior = 0.5): number {
  let odds = logOdds(prior, 'prior');
  for (const { reliability, verdict } of labels) {
    const step = logOdds(reliability, 'annotator reliability');
    odds += verdict === 'correct' ? step : -step;
  }
  return 1 / (1 + Math.exp(-odds));
}

/**
 * One program's consensus under `rule`. Labels from annotators missing from `reliabilities` do
 * not count (their weight is unknown); a line with fewer than rule.minLabelsPerLine counted
 * labels makes the program unscorable.
 */
export function programConsensus(
  lineCount: number,
  labels: readonly LineLabel[],
  reliabilities: ReadonlyMap<string, number>,
  rule: ConsensusRule = DEFAULT_CONSENSUS_RULE,
): ProgramConsensus {
  if (rule.version !== CRLHF_CONSENSUS_V1) throw new RangeError(`unknown consensus rule ${String(rule.version)}`);
  if (!Number.isInteger(lineCount) || lineCount < 0) throw new RangeError(`line count must be a non-negative integer, got ${lineCount}`);
  const perLine: { reliability: number; verdict: LineVerdict }[][] = Array.from({ length: lineCount }, () => []);
  for (const label of labels) {
    if (!Number.isInteger(label.line) || label.line < 1 || label.line > lineCount) {
      throw new RangeError(`label for line ${label.line} of a ${lineCount}-line program`);
    }
    const reliability = reliabilities.get(label.annotator);
    if (reliability !== undefined) perLine[label.line - 1]!.push({ reliability, verdict: label.verdict });
  }
  const labelsPerLine = perLine.map((l) => l.length);
  const base = { version: rule.version, labelsPerLine };
  if (lineCount === 0) return { kind: 'unscorable', ...base, reason: 'the program has no lines' };
  const short = labelsPerLine.findIndex((n) => n < rule.minLabelsPerLine);
  if (short >= 0) {
    return { kind: 'unscorable', ...base, reason: `line ${short + 1} has ${labelsPerLine[short]} label(s) from annotators of known reliability, needs ${rule.minLabelsPerLine}` };
  }
  const linePosteriors = perLine.map((l) => linePosterior(l, rule.prior));
  return { kind: 'scored', ...base, reward: linePosteriors.reduce((product, p) => product * p, 1), linePosteriors };
}
