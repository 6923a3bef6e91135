import { dataflowMatchCounts, dataflowScore } from './dataflow-match';
import { KEYWORDS, type CodeBleuLanguage } from './languages';
import { ngramMatch } from './ngram-match';
import { pySplit, pyStrip } from './python-str';
import { syntaxMatchCounts, syntaxScore } from './syntax-match';
import { weightedNgramMatch } from './weighted-ngram-match';

export { CODEBLEU_LANGUAGES, isCodeBleuLanguage, type CodeBleuLanguage } from './languages';

/**
 * CodeBLEU (Ren et al. 2020) with weights 0.25 each on n-gram match, weighted n-gram match, syntax
 * match and data-flow match: a TypeScript port of the PyPI `codebleu` package (0.7.0), agreeing
 * with it to 1e-6 on test/fixtures/metrics (tree-sitter parsing, tokenisation by whitespace,
 * its keyword weights, brevity penalty, smoothing and degenerate cases). Where the reference's
 * data-flow score depends on Python's string hash seed, this gives its value under
 * PYTHONHASHSEED=0.
 */
export interface CodeBleuScores {
  codebleu: number;
  ngram_match: number;
  weighted_ngram_match: number;
  syntax_match: number;
  /** 0 when the references have no data flow; the total then counts this component as 1. */
  dataflow_match: number;
}

const WEIGHTS = { ngram: 0.25, weightedNgram: 0.25, syntax: 0.25, dataflow: 0.25 } as const;

/** Corpus-level CodeBLEU: each candidate with one or more references. */
export async function corpusCodebleu(references: string[][], candidates: string[], lang: CodeBleuLanguage): Promise<CodeBleuScores> {
  if (references.length !== candidates.length) {
    throw new RangeError(`${references.length} reference lists for ${candidates.length} candidates`);
  }
  if (references.some((refs) => refs.length === 0)) throw new RangeError('every candidate needs at least one reference');

  const strippedReferences = references.map((refs) => refs.map(pyStrip));
  const strippedCandidates = candidates.map(pyStrip);
  const referenceTokens = strippedReferences.map((refs) => refs.map(pySplit));
  const candidateTokens = strippedCandidates.map(pySplit);

  const ngram = ngramMatch(referenceTokens, candidateTokens);
  const weightedNgram = weightedNgramMatch(referenceTokens, candidateTokens, KEYWORDS[lang]);
  const syntax = syntaxScore(syntaxMatchCounts(strippedReferences, strippedCandidates, lang));
  const dataflow = dataflowScore(dataflowMatchCounts(strippedReferences, strippedCandidates, lang));

  return {
    codebleu:
      WEIGHTS.ngram * ngram +
      WEIGHTS.weightedNgram * weightedNgram +
      WEIGHTS.syntax * syntax +
      // The reference's `dataflow_match_score or 1`: a zero data-flow score counts as 1 in the total.
      WEIGHTS.dataflow * (dataflow === 0 ? 1 : dataflow),
    ngram_match: ngram,
    weighted_ngram_match: weightedNgram,
    syntax_match: syntax,
    dataflow_match: dataflow,
  };
}

/** Sentence-level CodeBLEU of one candidate against one reference. */
export function codebleu(reference: string, candidate: string, lang: CodeBleuLanguage): Promise<CodeBleuScores> {
  return corpusCodebleu([[reference]], [candidate], lang);
}
