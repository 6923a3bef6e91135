import { describe, expect, it } from 'vitest';
import { completionOf, programFromOutput } from '../../activities/models/program-text';

/** A stored program and what the policy that wrote it is trained to write after its prompt. */
const prompt = '"""\nWrite a function to add 1 to a number.\n"""\n\n';
const onnx = { backend: 'onnx' } as Parameters<typeof programFromOutput>[0];
const chat = { backend: 'openai', api: 'chat' } as Parameters<typeof programFromOutput>[0];

describe('program text', () => {
  it('a completion policy continues its prompt; its training completion is what it wrote, never the prompt again', () => {
    const text = 'def add_1(n):\n    return n + 1\n';
    const program = programFromOutput(onnx, prompt, text);
    expect(program).toBe(prompt + text);
    expect(completionOf(prompt, program)).toBe(text);
  });

  it('a chat policy answers in Markdown: the fenced program is kept and trained on as it is', () => {
    const program = programFromOutput(chat, prompt, 'Here:\n```python\ndef add_1(n):\n    return n + 1\n```\n');
    expect(program).toBe('def add_1(n):\n    return n + 1\n');
    expect(completionOf(prompt, program)).toBe(program);
  });

  it("a refiner that restated the prompt's docstring, altered: the training completion starts after it, never with a second docstring", () => {
    const code = 'def add_1(n):\n    return n + 1\n';
    expect(completionOf(prompt, `"""\nWrite a function to add one to a number.\n"""\n\n${code}`)).toBe(code);
    expect(completionOf('# add 1\n', `"""\nAdd one.\n"""\n${code}`)).toBe(`"""\nAdd one.\n"""\n${code}`);
  });
});
