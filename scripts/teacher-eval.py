"""The teacher's held-out quality (rows from scripts/teacher-eval-rows.ts), on its checkpoint:
judge and discriminator: P(Yes) from the first answer token (Yes vs No) against whether the
program passes its tests (agreement at 0.5, and AUC); feedback: greedy answer names every bug the truth names; refiner:
greedy refinement run with the task's tests in a subprocess (pass rate) and exact match.

  python scripts/teacher-eval.py MODEL_DIR ROWS.jsonl [PER_ROLE_LIMIT]
"""
import json, sys, subprocess, tempfile, os, collections, time
import torch
from transformers import AutoTokenizer, AutoModelForCausalLM
torch.set_num_threads(1)
mdir = sys.argv[1]
rows_path = sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 10**9
tok = AutoTokenizer.from_pretrained(mdir)
model = AutoModelForCausalLM.from_pretrained(mdir).eval()
rows = [json.loads(l) for l in open(rows_path)]
# the first token of each answer (teacher v1's tokenizer split Yes into Y + es)
yes = tok("Yes", add_special_tokens=False)["input_ids"][:1]
no = tok("No", add_special_tokens=False)["input_ids"][:1]
res = collections.defaultdict(list)
scores = collections.defaultdict(list)  # role -> (P(Yes), passes): the AUC's inputs
def auc(pairs):
    # the chance that a passing program gets a higher P(Yes) than a failing one (ties count half)
    pos = [p for p, y in pairs if y]; neg = [p for p, y in pairs if not y]
    if not pos or not neg: return None
    return sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / (len(pos) * len(neg))
def passes(program, tests):
    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as f:
        f.write(program + '\n\n' + tests + '\n'); name = f.name
    try:
        return subprocess.run([sys.executable, name], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        os.unlink(name)
seen = collections.Counter()
t0 = time.time()
out = open(rows_path + '.answers.jsonl', 'w')
for r in rows:
    if seen[r['role']] >= limit: continue
    seen[r['role']] += 1
    ids = tok(r['prompt'], add_special_tokens=False)['input_ids'][-760:]
    x = torch.tensor([ids])
    with torch.no_grad():
        if r['role'] in ('judge', 'discriminator'):
            logits = model(x).logits[0, -1]
            p = torch.softmax(logits, -1)
            py, pn = p[yes[0]].item(), p[no[0]].item()
            pyes = py / (py + pn)
            ok = (pyes > 0.5) == r['passes']
            res[r['role'] + ('-py' if 'Synth/' in r['taskId'] else '-java')].append(ok)
            scores[r['role']].append((pyes, r['passes']))
            out.write(json.dumps({'role': r['role'], 'taskId': r['taskId'], 'passes': r['passes'], 'pYes': pyes, 'mass': py + pn}) + '\n')
        else:
            maxnew = 60 if r['role'] == 'feedback' else 200
            g = model.generate(x, max_new_tokens=maxnew, do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
            text = tok.decode(g[0, len(ids):], skip_special_tokens=True)
            if r['role'] == 'feedback':
                res['feedback-exact'].append(text.strip() == r['truth'].strip())
                # names the right bug: every sentence of the truth is in the answer
                sents = [s.strip() for s in r['truth'].split('.') if s.strip()]
                res['feedback-names-bug'].append(all(s in text for s in sents))
            else:
                res['refiner-passes'].append(passes(text, r['tests']))
                res['refiner-exact'].append(text.strip() == r['truth'].strip())
            out.write(json.dumps({'role': r['role'], 'taskId': r['taskId'], 'text': text, 'truth': r['truth']}) + '\n')
    out.flush()
summary = {k: {'n': len(v), 'rate': sum(v) / len(v)} for k, v in res.items()}
for role, pairs in scores.items():
    summary[role + '-auc'] = {'n': len(pairs), 'passing': sum(y for _, y in pairs), 'auc': auc(pairs)}
print(json.dumps(summary, indent=1)); print('seconds', round(time.time() - t0))
