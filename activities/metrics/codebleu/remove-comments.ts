import { pyStrip } from './python-str';
import { pythonTokens } from './python-tokenize';
import type { CodeBleuLanguage } from './languages';

/**
 * The reference's remove_comments_and_docstrings: what syntax and data-flow match parse.
 * If it fails (Python source the tokenizer rejects), the reference keeps the source as is.
 */
export function removeCommentsAndDocstrings(source: string, lang: CodeBleuLanguage): string {
  try {
    return lang === 'python' ? stripPython(source) : stripCStyle(source);
  } catch {
    return source;
  }
}

function dropBlankLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => pyStrip(line) !== '')
    .join('\n');
}

/**
 * Re-emits the token stream without comments, and without strings that start a logical line
 * (docstrings, and any other string statement), padding with spaces to each token's column.
 */
function stripPython(source: string): string {
  let out = '';
  let previousType = 'INDENT';
  let lastLine = -1;
  let lastColumn = 0;
  for (const token of pythonTokens(source)) {
    const [startLine, startColumn] = token.start;
    if (startLine > lastLine) lastColumn = 0;
    if (startColumn > lastColumn) out += ' '.repeat(startColumn - lastColumn);
    if (token.type === 'COMMENT') {
      // dropped
    } else if (token.type === 'STRING') {
      if (previousType !== 'INDENT' && previousType !== 'NEWLINE' && startColumn > 0) out += token.string;
    } else {
      out += token.string;
    }
    previousType = token.type;
    [lastLine, lastColumn] = token.end;
  }
  return dropBlankLines(out);
}

/**
 * Java (and other C-style languages): at each position, the first of `//...` up to the end of
 * the line, a closed `/* ... *\/`, a closed '...' or "..." literal is consumed; comments become
 * one space, literals stay. An unclosed block comment or literal consumes just its first
 * character, as the reference's regular expression does when no alternative matches.
 */
function stripCStyle(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '/' && source[i + 1] === '/') {
      const newline = source.indexOf('\n', i);
      i = newline === -1 ? source.length : newline;
      out += ' ';
      continue;
    }
    if (ch === '/' && source[i + 1] === '*') {
      const close = source.indexOf('*/', i + 2);
      if (close !== -1) {
        i = close + 2;
        out += ' ';
        continue;
      }
    } else if (ch === "'" || ch === '"') {
      const end = closedLiteralEnd(source, i);
      if (end !== -1) {
        out += source.slice(i, end);
        i = end;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  return dropBlankLines(out);
}

/** End (exclusive) of the quoted literal opening at `start`, with backslash escapes; -1 if unclosed. */
function closedLiteralEnd(source: string, start: number): number {
  const quote = source[start];
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '\\') {
      if (i + 1 >= source.length) return -1;
      i += 2;
    } else if (ch === quote) {
      return i + 1;
    } else {
      i += 1;
    }
  }
  return -1;
}
