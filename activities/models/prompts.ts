
/**
 * The prompts of the ILF loop, in one place so that they are recorded and versioned together.
 * The refinement prompt follows the ILF paper's pi_Refine input: the task, the failing program
 * and the natural-language feedback, then the refined program.
 */
export const PROMPTS_VERSION = 'ilf-prompts-v1';

/**
 * What the prompts show of a task: its description and its tests (MBPP's `text` and
 * `testList`; any Python code dataset's task in the registry, the synthetic family's included).
 */
export interface PromptTask {
  text: string;
  testList: readonly string[];
}

export function refinementPrompt(task: PromptTask, failingProgram: string, feedback: string): string {
  return [
    `# Task: ${task.text}`,
    `# Example test: ${task.testList[0] ?? ''}`,
    '# Incorrect program:',
    failingProgram.trimEnd(),
    '',
    `# Feedback on the program: ${feedback.replace(/\s+/g, ' ').trim()}`,
    '# Refined program that fixes the problems named in the feedback:',
    '',
  ].join('\n');
}

export function feedbackPrompt(task: PromptTask, failingProgram: string, evidence: string): string {
  return [
    'A program was written for the task below and fails its unit tests.',
    `Task: ${task.text}`,
    'Program:',
    '```python',
    failingProgram.trimEnd(),
    '```',
    `Test result: ${evidence.slice(0, 1500)}`,
    'In a few sentences, say what is wrong with the program and how to fix it. Do not write code.',
  ].join('\n');
}
