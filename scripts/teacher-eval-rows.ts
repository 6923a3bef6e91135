/**
 * Held-out rows for measuring the teacher (scripts/teacher-eval.py): the family's `test` split
 * (combinations the teacher never saw), rendered twice per task in Python and Java with bugs at
 * the corpus's rates but another corpus seed (101) than the teacher's, each as the four roles'
 * prompts (cli/teacher.ts teacherRows) with the truth: whether the program passes its tests,
 * the templated feedback, the fix, and the task's Python tests (run on the refinements).
 *
 *   npx tsx scripts/teacher-eval-rows.ts OUT.jsonl
 */
import fs from 'node:fs';
import { familyTaskOf, pythonTests, registeredFamily, renderedPrograms } from '../activities/datasets/synthetic';
import { teacherRows } from '../cli/teacher';

const outPath = process.argv[2] ?? 'teacher-eval-rows.jsonl';
const family = registeredFamily();
const out: string[] = [];
for (const p of renderedPrograms({ seed: 101, family, split: 'test', repeats: 2, languages: ['python', 'java'] })) {
  const t = familyTaskOf(p.taskId, family)!;
  for (const r of teacherRows(p, family)) out.push(JSON.stringify({ ...r, passes: p.passes, truth: r.completion, tests: p.language === 'python' ? pythonTests(t) : '' }));
}
fs.writeFileSync(outPath, `${out.join('\n')}\n`);
console.log(`${out.length} rows in ${outPath}`);
