/**
 * Python `str` behaviour that the CodeBLEU reference relies on and JavaScript does differently:
 * what counts as whitespace for split()/strip() (JavaScript's \s has U+FEFF but not U+001C-U+001F
 * or U+0085).
 */

// Exactly the characters for which Python's str.isspace() is true.
const PY_WHITESPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'u');
const LEADING = new RegExp(`^[${PY_WHITESPACE}]+`, 'u');
const TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`, 'u');

/** Python's `s.split()`: split on runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(WHITESPACE_RUN).filter((part) => part.length > 0);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, '').replace(TRAILING, '');
}
