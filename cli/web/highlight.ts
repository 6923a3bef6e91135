
/**
 * Syntax highlighting for the annotator page, done on the server with highlight.js (so the
 * browser loads no highlighter and the page's CSP stays `script-src 'self'`). highlight.js
 * escapes the program text; the result is one HTML fragment per program line, with the spans
 * a multi-line token (a docstring) opened on an earlier line closed and reopened, so each line
 * stands alone in its own row.
 */
interface Highlighter {
  registerLanguage(name: string, language: unknown): void;
  getLanguage(name: string): unknown;
  highlight(code: string, o: { language: string; ignoreIllegals: boolean }): { value: string };
}
// Loaded with require and typed here: highlight.js's own .d.ts pulls the DOM lib into the whole
// project's type check.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hljs = require('highlight.js/lib/core') as Highlighter;
// eslint-disable-next-line @typescript-eslint/no-require-imports
hljs.registerLanguage('python', require('highlight.js/lib/languages/python'));

/** The program's lines as the annotation protocol counts them: a final newline ends the last line. */
export function programLines(program: string): string[] {
  return program.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
}

export function highlightLines(program: string, language: string): string[] {
  const source = programLines(program).join('\n');
  const html = hljs.getLanguage(language) ? hljs.highlight(source, { language, ignoreIllegals: true }).value : escapeHtml(source);
  return splitHighlightedLines(html);
}

/** Splits highlight.js output at newlines, carrying open `<span ...>` tags over to the next line. */
export function splitHighlightedLines(html: string): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let current = '';
  for (const part of html.split(/(<span[^>]*>|<\/span>|\n)/)) {
    if (part === '\n') {
      lines.push(current + '</span>'.repeat(open.length));
      current = open.join('');
    } else if (part.startsWith('<span')) {
      open.push(part);
      current += part;
    } else if (part === '</span>') {
      open.pop();
      current += part;
    } else {
      current += part;
    }
  }
  lines.push(current + '</span>'.repeat(open.length));
  return lines;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]!);
}
