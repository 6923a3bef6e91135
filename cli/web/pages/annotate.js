/* global document, location, HTMLInputElement */
// The annotator's page: the next assigned item, its lines to mark correct or wrong, a note per
// line if wanted. j/k (or the arrow keys) move, x or a click toggles, n edits the line's note,
// Enter submits. The server decides what is shown; this page never learns item ids.
import { api, explainAuth, show } from '/assets/api.js';

const MAX_NOTE = 500;
const state = { item: null, labels: [], notes: {}, cursor: 0, busy: false };
const table = document.getElementById('lines');

function renderProgress(s) {
  show('who', `${s.annotator} · ${s.campaignId}${s.iteration !== undefined ? ` · iteration ${s.iteration}` : ''}`);
  if (s.iteration === undefined) return show('progress', '');
  const deadline = s.deadline ? ` · closes ${new Date(s.deadline).toLocaleString()}` : '';
  show('progress', `${s.answered} of ${s.assigned} answered · ${s.remaining} remaining${deadline}`);
}

function rowOf(i) {
  return table.rows[i];
}

function paintRow(i) {
  const row = rowOf(i);
  const label = state.labels[i];
  row.className = `line ${label}${i === state.cursor ? ' current' : ''}`;
  row.dataset.label = label;
  const button = row.querySelector('button.mark');
  button.textContent = label === 'correct' ? '✓ correct' : '✗ wrong';
  button.setAttribute('aria-pressed', String(label === 'wrong'));
  const note = row.querySelector('input.note');
  note.hidden = !(state.notes[i + 1] || note === document.activeElement || row.dataset.noting === 'yes');
}

function paintSummary() {
  const wrong = state.labels.filter((l) => l === 'wrong').length;
  show('summary', `${state.labels.length} lines: ${state.labels.length - wrong} correct, ${wrong} wrong`);
}

function moveTo(i) {
  const before = state.cursor;
  state.cursor = Math.max(0, Math.min(state.labels.length - 1, i));
  paintRow(before);
  paintRow(state.cursor);
  rowOf(state.cursor).scrollIntoView({ block: 'nearest' });
}

function toggle(i) {
  state.labels[i] = state.labels[i] === 'correct' ? 'wrong' : 'correct';
  moveTo(i);
  paintRow(i);
  paintSummary();
}

function editNote(i) {
  moveTo(i);
  const row = rowOf(i);
  row.dataset.noting = 'yes';
  const input = row.querySelector('input.note');
  input.hidden = false;
  input.focus();
}

function renderItem(item) {
  state.item = item;
  state.labels = Array.from({ length: item.lineCount }, () => 'correct');
  state.notes = {};
  state.cursor = 0;
  document.getElementById('prompt').textContent = item.prompt;
  table.replaceChildren();
  for (let i = 0; i < item.lineCount; i++) {
    const row = table.insertRow();
    row.dataset.line = String(i + 1);
    const no = row.insertCell();
    no.className = 'no';
    no.textContent = String(i + 1);
    const mark = row.insertCell();
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'mark';
    button.addEventListener('click', () => toggle(i));
    mark.append(button);
    const code = row.insertCell();
    code.className = 'code';
    const pre = document.createElement('code');
    // The server's highlight.js output: the program text escaped, wrapped in class-only spans.
    pre.innerHTML = item.linesHtml[i] ?? '';
    code.append(pre);
    code.addEventListener('click', () => toggle(i));
    const noteCell = row.insertCell();
    const note = document.createElement('input');
    note.className = 'note';
    note.maxLength = MAX_NOTE;
    note.placeholder = `note on line ${i + 1}`;
    note.setAttribute('aria-label', `note on line ${i + 1}`);
    note.addEventListener('input', () => {
      if (note.value.trim()) state.notes[i + 1] = note.value.trim();
      else delete state.notes[i + 1];
    });
    note.addEventListener('blur', () => {
      delete row.dataset.noting;
      paintRow(i);
    });
    const noteButton = document.createElement('button');
    noteButton.type = 'button';
    noteButton.className = 'add-note';
    noteButton.textContent = 'note';
    noteButton.addEventListener('click', () => editNote(i));
    noteCell.append(noteButton, note);
  }
  state.labels.forEach((_, i) => paintRow(i));
  paintSummary();
  const out = document.getElementById('test-output-section');
  out.hidden = !item.testOutput;
  document.getElementById('test-output').textContent = item.testOutput ?? '';
  document.getElementById('item').hidden = false;
}

async function loadNext(message) {
  show('error', '');
  const s = await api.get('/api/next');
  renderProgress(s);
  document.getElementById('item').hidden = true;
  state.item = null;
  if (s.iteration === undefined || !s.open) return show('message', message ?? 'No annotation is open for this campaign right now. Come back later.');
  if (!s.item) return show('message', `${message ? `${message} ` : ''}All ${s.assigned} of your items are answered. Thank you!`);
  show('message', message ?? '');
  renderItem(s.item);
}

async function submit() {
  if (!state.item || state.busy) return;
  state.busy = true;
  document.getElementById('submit').disabled = true;
  try {
    const r = await api.post(`/api/items/${encodeURIComponent(state.item.ref)}/labels`, { labels: state.labels, notes: state.notes });
    await loadNext(`Labels accepted. ${r.remaining} remaining.`);
  } catch (err) {
    show('message', '');
    show('error', `Not accepted: ${explainAuth(err)}`);
  } finally {
    state.busy = false;
    document.getElementById('submit').disabled = false;
  }
}

document.getElementById('submit').addEventListener('click', () => void submit());
document.addEventListener('keydown', (e) => {
  if (!state.item || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target instanceof HTMLInputElement) {
    // In a note: Enter or Escape goes back to the lines; typing stays in the note.
    if (e.key === 'Enter' || e.key === 'Escape') {
      e.preventDefault();
      e.target.blur();
    }
    return;
  }
  const keys = {
    j: () => moveTo(state.cursor + 1),
    ArrowDown: () => moveTo(state.cursor + 1),
    k: () => moveTo(state.cursor - 1),
    ArrowUp: () => moveTo(state.cursor - 1),
    x: () => toggle(state.cursor),
    n: () => editNote(state.cursor),
    Enter: () => void submit(),
  };
  const action = keys[e.key];
  if (!action) return;
  e.preventDefault();
  action();
});

api
  .me()
  .then((me) => {
    if (me.role === 'owner') return location.replace('/owner');
    return loadNext();
  })
  .catch((err) => show('error', explainAuth(err)));
