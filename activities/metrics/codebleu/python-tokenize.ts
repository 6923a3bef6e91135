/**
 * A port of CPython 3.11's pure-Python `tokenize.generate_tokens` (Lib/tokenize.py), the tokenizer
 * the CodeBLEU reference uses to strip Python comments and docstrings. Behaviour that matters for
 * faithfulness is kept: the same token boundaries, ERRORTOKENs for characters it cannot place,
 * the implicit NEWLINE at end of input, and the same failures (an unterminated triple-quoted
 * string or bracket raises TokenError, a dedent to an unknown level raises IndentationError),
 * which make the reference fall back to the unstripped source.
 *
 * Columns are UTF-16 offsets within a line. CPython counts code points; callers here only use
 * column differences across whitespace, where the two agree.
 */

import { pyStrip } from './python-str';

export type PyTokenType = 'ENDMARKER' | 'NAME' | 'NUMBER' | 'STRING' | 'NEWLINE' | 'INDENT' | 'DEDENT' | 'OP' | 'COMMENT' | 'NL' | 'ERRORTOKEN';

export interface PyToken {
  type: PyTokenType;
  string: string;
  /** [line (1-based), column] */
  start: [number, number];
  end: [number, number];
}

export class PyTokenizeError extends Error {
  override name = 'PyTokenizeError';
}

// --- Lexical patterns (tokenize.py's regular expressions, in JavaScript syntax) -------------------
// Python's `.` (no DOTALL) excludes only \n, hence [^\n] where tokenize.py writes `.`.
const group = (...choices: string[]): string => `(?:${choices.join('|')})`;
const maybe = (...choices: string[]): string => `${group(...choices)}?`;

const WHITESPACE = '[ \\f\\t]*';
const COMMENT = '#[^\\r\\n]*';
const NAME = '[\\p{L}\\p{N}_]+'; // Python's \w: str.isalnum() or '_'

const HEX = '0[xX](?:_?[0-9a-fA-F])+';
const BIN = '0[bB](?:_?[01])+';
const OCT = '0[oO](?:_?[0-7])+';
const DEC = '(?:0(?:_?0)*|[1-9](?:_?[0-9])*)';
const INT = group(HEX, BIN, OCT, DEC);
const EXPONENT = '[eE][-+]?[0-9](?:_?[0-9])*';
const POINTFLOAT = group('[0-9](?:_?[0-9])*\\.(?:[0-9](?:_?[0-9])*)?', '\\.[0-9](?:_?[0-9])*') + maybe(EXPONENT);
const EXPFLOAT = '[0-9](?:_?[0-9])*' + EXPONENT;
const FLOAT = group(POINTFLOAT, EXPFLOAT);
const IMAG = group('[0-9](?:_?[0-9])*[jJ]', FLOAT + '[jJ]');
const NUMBER = group(IMAG, FLOAT, INT);

// The empty prefix plus b, r, u, f, br, fr in every order and letter case.
const STRING_PREFIX = '(?:[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF]|[bBrRuUfF])?';
const TRIPLE = group(`${STRING_PREFIX}'''`, `${STRING_PREFIX}"""`);

const EXACT_OPERATORS = [
  '!=', '%', '%=', '&', '&=', '(', ')', '*', '**', '**=', '*=', '+', '+=', ',', '-', '-=', '->', '.', '...', '/', '//', '//=', '/=',
  ':', ':=', ';', '<', '<<', '<<=', '<=', '=', '==', '>', '>=', '>>', '>>=', '@', '@=', '[', ']', '^', '^=', '{', '|', '|=', '}', '~',
];
// Longest first among shared prefixes, as tokenize.py gets by sorting in reverse.
const SPECIAL = group(...[...EXACT_OPERATORS].sort().reverse().map((op) => op.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
const FUNNY = group('\\r?\\n', SPECIAL);

const CONT_STR = group(
  `${STRING_PREFIX}'[^\\n'\\\\]*(?:\\\\[^\\n][^\\n'\\\\]*)*${group("'", '\\\\\\r?\\n')}`,
  `${STRING_PREFIX}"[^\\n"\\\\]*(?:\\\\[^\\n][^\\n"\\\\]*)*${group('"', '\\\\\\r?\\n')}`,
);
const PSEUDO_EXTRAS = group('\\\\\\r?\\n|$', COMMENT, TRIPLE);
const PSEUDO_TOKEN = new RegExp(`${WHITESPACE}(${group(PSEUDO_EXTRAS, NUMBER, FUNNY, CONT_STR, NAME)})`, 'uy');

// Tails of strings, matched from just after the opening quote(s).
const END_PATTERNS = {
  "'": new RegExp("[^'\\\\]*(?:\\\\[^\\n][^'\\\\]*)*'", 'uy'),
  '"': new RegExp('[^"\\\\]*(?:\\\\[^\\n][^"\\\\]*)*"', 'uy'),
  "'''": new RegExp("[^'\\\\]*(?:(?:\\\\[^\\n]|'(?!''))[^'\\\\]*)*'''", 'uy'),
  '"""': new RegExp('[^"\\\\]*(?:(?:\\\\[^\\n]|"(?!""))[^"\\\\]*)*"""', 'uy'),
};

const TRIPLE_QUOTED = new RegExp(`^${STRING_PREFIX}(?:'''|""")$`);
const SINGLE_QUOTED = new RegExp(`^${STRING_PREFIX}['"]$`);
const IDENTIFIER_START = /^[\p{XID_Start}_]/u;
const TAB_SIZE = 8;

function matchAt(pattern: RegExp, text: string, pos: number): RegExpExecArray | null {
  pattern.lastIndex = pos;
  return pattern.exec(text);
}

/** Lines as io.StringIO(source).readline gives them: split after each '\n' only. */
function readLines(source: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', start)) {
    lines.push(source.slice(start, i + 1));
    start = i + 1;
  }
  if (start < source.length) lines.push(source.slice(start));
  return lines;
}

function endPatternFor(quoted: string): RegExp {
  for (const key of ['"""', "'''", '"', "'"] as const) {
    if (quoted.endsWith(key)) return END_PATTERNS[key];
  }
  throw new PyTokenizeError(`not a string opening: ${quoted}`);
}

function pyRstripNewlines(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

/** Python's `s.strip().startswith('#')`. */
function isCommentLine(line: string): boolean {
  return pyStrip(line).startsWith('#');
}

/** All tokens of `source`, as tokenize.generate_tokens(io.StringIO(source).readline) yields them. */
export function pythonTokens(source: string): PyToken[] {
  const tokens: PyToken[] = [];
  const lines = readLines(source);
  let lineIndex = 0;
  let lnum = 0;
  let parenlev = 0;
  let continued = false;
  let contstr = '';
  let needcont = false;
  let strstart: [number, number] = [0, 0];
  let endprog: RegExp = END_PATTERNS['"'];
  const indents = [0];
  let lastLine = '';
  let line = '';

  for (;;) {
    lastLine = line;
    line = lineIndex < lines.length ? lines[lineIndex++]! : '';
    lnum += 1;
    let pos = 0;
    const max = line.length;

    if (contstr) {
      if (!line) throw new PyTokenizeError('EOF in multi-line string');
      const endmatch = matchAt(endprog, line, 0);
      if (endmatch) {
        pos = endprog.lastIndex;
        tokens.push({ type: 'STRING', string: contstr + line.slice(0, pos), start: strstart, end: [lnum, pos] });
        contstr = '';
        needcont = false;
      } else if (needcont && !line.endsWith('\\\n') && !line.endsWith('\\\r\n')) {
        tokens.push({ type: 'ERRORTOKEN', string: contstr + line, start: strstart, end: [lnum, line.length] });
        contstr = '';
        continue;
      } else {
        contstr += line;
        continue;
      }
    } else if (parenlev === 0 && !continued) {
      if (!line) break;
      let column = 0;
      while (pos < max) {
        const ch = line[pos];
        if (ch === ' ') column += 1;
        else if (ch === '\t') column = (Math.floor(column / TAB_SIZE) + 1) * TAB_SIZE;
        else if (ch === '\f') column = 0;
        else break;
        pos += 1;
      }
      if (pos === max) break;

      const first = line[pos]!;
      if (first === '#' || first === '\r' || first === '\n') {
        if (first === '#') {
          const comment = pyRstripNewlines(line.slice(pos));
          tokens.push({ type: 'COMMENT', string: comment, start: [lnum, pos], end: [lnum, pos + comment.length] });
          pos += comment.length;
        }
        tokens.push({ type: 'NL', string: line.slice(pos), start: [lnum, pos], end: [lnum, line.length] });
        continue;
      }

      if (column > indents[indents.length - 1]!) {
        indents.push(column);
        tokens.push({ type: 'INDENT', string: line.slice(0, pos), start: [lnum, 0], end: [lnum, pos] });
      }
      while (column < indents[indents.length - 1]!) {
        if (!indents.includes(column)) throw new PyTokenizeError('unindent does not match any outer indentation level');
        indents.pop();
        tokens.push({ type: 'DEDENT', string: '', start: [lnum, pos], end: [lnum, pos] });
      }
    } else {
      if (!line) throw new PyTokenizeError('EOF in multi-line statement');
      continued = false;
    }

    while (pos < max) {
      const pseudo = matchAt(PSEUDO_TOKEN, line, pos);
      if (!pseudo) {
        // One code point, as line[pos] is in Python.
        const ch = String.fromCodePoint(line.codePointAt(pos)!);
        tokens.push({ type: 'ERRORTOKEN', string: ch, start: [lnum, pos], end: [lnum, pos + ch.length] });
        pos += ch.length;
        continue;
      }
      const token = pseudo[1]!;
      const end = PSEUDO_TOKEN.lastIndex;
      const start = end - token.length;
      pos = end;
      if (start === end) continue;
      const initial = token[0]!;
      const spos: [number, number] = [lnum, start];
      const epos: [number, number] = [lnum, end];

      if ('0123456789'.includes(initial) || (initial === '.' && token !== '.' && token !== '...')) {
        tokens.push({ type: 'NUMBER', string: token, start: spos, end: epos });
      } else if (initial === '\r' || initial === '\n') {
        tokens.push({ type: parenlev > 0 ? 'NL' : 'NEWLINE', string: token, start: spos, end: epos });
      } else if (initial === '#') {
        tokens.push({ type: 'COMMENT', string: token, start: spos, end: epos });
      } else if (TRIPLE_QUOTED.test(token)) {
        endprog = endPatternFor(token);
        if (matchAt(endprog, line, pos)) {
          pos = endprog.lastIndex;
          tokens.push({ type: 'STRING', string: line.slice(start, pos), start: spos, end: [lnum, pos] });
        } else {
          strstart = [lnum, start];
          contstr = line.slice(start);
          break;
        }
      } else if (SINGLE_QUOTED.test(initial) || SINGLE_QUOTED.test(token.slice(0, 2)) || SINGLE_QUOTED.test(token.slice(0, 3))) {
        if (token.endsWith('\n')) {
          strstart = [lnum, start];
          endprog = END_PATTERNS[/['"]/.exec(token)![0] as "'" | '"'];
          contstr = line.slice(start);
          needcont = true;
          break;
        }
        tokens.push({ type: 'STRING', string: token, start: spos, end: epos });
      } else if (IDENTIFIER_START.test(token)) {
        tokens.push({ type: 'NAME', string: token, start: spos, end: epos });
      } else if (initial === '\\') {
        continued = true;
      } else {
        if ('([{'.includes(initial)) parenlev += 1;
        else if (')]}'.includes(initial)) parenlev -= 1;
        tokens.push({ type: 'OP', string: token, start: spos, end: epos });
      }
    }
  }

  if (lastLine && !'\r\n'.includes(lastLine[lastLine.length - 1]!) && !isCommentLine(lastLine)) {
    tokens.push({ type: 'NEWLINE', string: '', start: [lnum - 1, lastLine.length], end: [lnum - 1, lastLine.length + 1] });
  }
  for (let i = 1; i < indents.length; i++) tokens.push({ type: 'DEDENT', string: '', start: [lnum, 0], end: [lnum, 0] });
  tokens.push({ type: 'ENDMARKER', string: '', start: [lnum, 0], end: [lnum, 0] });
  return tokens;
}
