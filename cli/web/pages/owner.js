/* global document, location */
// The campaign owner's page: each iteration's progress, per annotator counts and reliability
// (once the iteration has estimated it), and the open annotation's deadline: extend or close.
import { api, explainAuth, show } from '/assets/api.js';

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

function cell(row, text, className) {
  const c = row.insertCell();
  c.textContent = text;
  if (className) c.className = className;
  return c;
}

function renderIterations(iterations) {
  const root = document.getElementById('iterations');
  root.replaceChildren();
  if (iterations.length === 0) root.textContent = 'No iteration has started yet.';
  for (const it of iterations) {
    const section = document.createElement('section');
    section.className = 'iteration';
    section.dataset.iteration = String(it.iteration);
    const h = document.createElement('h3');
    h.textContent = `Iteration ${it.iteration} · ${it.phase} · ${it.status} · ${it.items} items (${it.honeypots} honeypots) · ${it.labels} of ${it.assignments} labels in`;
    section.append(h);
    if (it.perAnnotator.length) {
      const table = document.createElement('table');
      table.className = 'grid';
      const head = table.createTHead().insertRow();
      for (const t of ['annotator', 'assigned', 'answered', 'reliability (estimated)', 'honeypot accuracy', 'honeypot lines']) head.append(Object.assign(document.createElement('th'), { textContent: t }));
      const body = table.createTBody();
      for (const a of it.perAnnotator) {
        const row = body.insertRow();
        row.dataset.annotator = a.annotator;
        cell(row, a.annotator);
        cell(row, String(a.assigned), 'num');
        cell(row, String(a.answered), 'num');
        cell(row, pct(a.reliability), 'num');
        cell(row, pct(a.honeypotAccuracy), 'num');
        cell(row, a.honeypotLines === null ? '–' : String(a.honeypotLines), 'num');
      }
      section.append(table);
    }
    root.append(section);
  }
}

function renderAnnotating(a) {
  const text = !a
    ? 'No iteration is taking annotations now.'
    : `Iteration ${a.iteration}: annotation ${a.open ? 'open' : 'closed'}${a.deadline ? `, deadline ${a.deadline}` : ''}${a.quorum !== undefined ? `, quorum ${pct(a.quorum)}` : ''}${a.items !== undefined ? `, ${a.items} items` : ''}.`;
  show('annotating-state', text);
  const open = Boolean(a && a.open);
  document.getElementById('extend-form').hidden = !open;
  document.getElementById('close-form').hidden = !open;
  if (open && a.deadline) document.getElementById('extend-deadline').value = new Date(new Date(a.deadline).getTime() + 24 * 3600_000).toISOString();
}

async function load() {
  const p = await api.get('/api/owner/progress');
  show('who', `${p.owner} · ${p.campaignId}`);
  renderAnnotating(p.annotating);
  renderIterations(p.iterations);
}

async function act(what, path, body, done) {
  show('error', '');
  show('message', '');
  try {
    const r = await api.post(path, body);
    await load();
    show('message', done(r));
  } catch (err) {
    show('error', `${what} refused: ${explainAuth(err)}`);
  }
}

document.getElementById('extend-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void act('Extending the deadline', '/api/owner/extend', { deadline: document.getElementById('extend-deadline').value.trim(), reason: document.getElementById('extend-reason').value }, (r) => `Deadline extended: annotation of iteration ${r.iteration} is open until ${r.deadline}.`);
});
document.getElementById('close-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void act('Closing annotation', '/api/owner/close', { reason: document.getElementById('close-reason').value }, (r) => `Annotation closed: iteration ${r.iteration} goes on with the labels it has.`);
});

api
  .me()
  .then((me) => {
    if (me.role !== 'owner') return location.replace('/');
    return load();
  })
  .catch((err) => show('error', explainAuth(err)));
