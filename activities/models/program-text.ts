import type { PolicySpec } from '../../common/evaluation';
import type { Language } from '../../common/sandbox';

/**
 * Turns a model's output into the program to test. Chat models answer in Markdown, so the
 * first fenced code block is the program; completion models continue the prompt, so the
 * program is prompt + completion (as in the ILF paper's data).
 */
const FENCES = {
  python: /```[ \t]*(?:python|py|python3)?[ \t]*\n([\s\S]*?)```/,
  java: /```[ \t]*(?:java)?[ \t]*\n([\s\S]*?)```/,
};

export function programFromOutput(policy: PolicySpec, prompt: string, text: string, language: Language = 'python'): string {
  const fenced = FENCES[language].exec(text);
  if (fenced) return fenced[1]!;
  const continuesPrompt = policy.backend === 'onnx' || (policy.backend === 'openai' && policy.api === 'completions');
  return continuesPrompt ? prompt + text : text;
}

/**
 * What a policy is trained to write after `prompt` for a stored `program`: the program without
 * the prompt it continues (a completion policy's program is prompt + completion), else the
 * program after its own docstring where the prompt is a docstring, else the program as it is. Training on prompt -> prompt + program would teach the policy to repeat
 * its prompt.
 */
export function completionOf(prompt: string, program: string): string {
  if (program.startsWith(prompt)) return program.slice(prompt.length);
  // a prompt that is a docstring, restated (and altered) by a model that rewrote it (ILF's refiner):
  // the completion is what follows the program's own docstring, not a second docstring
  const docstring = /^"""[\s\S]*?"""\n*/;
  const own = program.match(docstring);
  return docstring.test(prompt) && own ? program.slice(own[0].length) : program;
}
