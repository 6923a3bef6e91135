import type { PolicySpec } from '../../common/evaluation';

/**
 * Turns a model's output into the program to test. Chat models answer in Markdown, so the
 * first fenced code block is the program; completion models continue the prompt, so the
 * program is prompt + completion (as in the ILF paper's data).
 */
const FENCE = /```[ \t]*(?:python|py|python3)?[ \t]*\n([\s\S]*?)```/;

export function programFromOutput(policy: PolicySpec, prompt: string, text: string): string {
  const fenced = FENCE.exec(text);
  if (fenced) return fenced[1]!;
  const continuesPrompt = policy.backend === 'onnx' || (policy.backend === 'openai' && policy.api === 'completions');
  return continuesPrompt ? prompt + text : text;
}
