import { describe, expect, it } from 'vitest';
import { cpythonStrHash, pythonSetOrder } from '../../activities/metrics/codebleu/python-set-order';
import { pySplit, pyStrip } from '../../activities/metrics/codebleu/python-str';
import { pythonTokens } from '../../activities/metrics/codebleu/python-tokenize';
import { removeCommentsAndDocstrings } from '../../activities/metrics/codebleu/remove-comments';

/** Expected values below were printed by CPython 3.11 (PYTHONHASHSEED=0) and codebleu 0.7.0. */
describe('CPython behaviour the reference depends on', () => {
  it('hashes str like CPython 3.11 with PYTHONHASHSEED=0, for 1-, 2- and 4-byte strings', () => {
    expect(cpythonStrHash('abc')).toBe(13851880170939887858n);
    expect(cpythonStrHash('größe')).toBe(9214236677518699477n);
    expect(cpythonStrHash('日本')).toBe(6243316497235261705n);
    expect(cpythonStrHash('𝔘x')).toBe(3124882103437326520n);
    expect(cpythonStrHash('')).toBe(0n);
  });

  it('orders list(set(...)) like CPython, through a table resize', () => {
    expect(pythonSetOrder(['s', 'i'])).toEqual(['s', 'i']);
    expect(pythonSetOrder(['i', 's', 'i'])).toEqual(['s', 'i']);
    expect(pythonSetOrder(['s', 'i', 'acc', 'v', 'total', 'xs', 'values', 'n', 'r', 'a', 'b', 'c', 'd', 'e'])).toEqual([
      'd', 's', 'n', 'r', 'b', 'i', 'xs', 'c', 'a', 'v', 'acc', 'values', 'e', 'total',
    ]);
  });

  it("splits and strips on Python's whitespace, not JavaScript's", () => {
    expect(pySplit('a\x1cb\u0085c\ufeffd  e')).toEqual(['a', 'b', 'c\ufeffd', 'e']);
    expect(pyStrip('\x1f x \ufeff')).toBe('x \ufeff');
  });
});

describe('comment and docstring removal', () => {
  it('drops comments and docstrings but keeps the columns of what follows', () => {
    expect(removeCommentsAndDocstrings('def f(x):\n    """Doc."""\n    return x  # c\n', 'python')).toBe('def f(x):\n    return x  ');
    expect(removeCommentsAndDocstrings('a = (1,\n     "kept")\n', 'python')).toBe('a = (1,\n     "kept")');
    expect(removeCommentsAndDocstrings('x = 1 + \\\n    2\n', 'python')).toBe('x = 1 +    2');
  });

  it('keeps Python source the tokenizer rejects as it is', () => {
    const badDedent = 'x = 1\n\tif x:\n  y = 2\n';
    const openString = 's = """open\n';
    expect(() => pythonTokens(badDedent)).toThrow(/unindent/);
    expect(() => pythonTokens(openString)).toThrow(/EOF in multi-line string/);
    expect(removeCommentsAndDocstrings(badDedent, 'python')).toBe(badDedent);
    expect(removeCommentsAndDocstrings(openString, 'python')).toBe(openString);
  });

  it('removes Java comments, not comment markers inside literals', () => {
    expect(removeCommentsAndDocstrings('class A { String s = "//no"; /* c */ int x; // t\n}', 'java')).toBe('class A { String s = "//no";   int x;  \n}');
  });

  it('tokenizes like tokenize.generate_tokens, ERRORTOKENs and the implicit NEWLINE included', () => {
    const tokens = pythonTokens("x = 'abc\ny $").map((t) => [t.type, t.string]);
    expect(tokens).toEqual([
      ['NAME', 'x'],
      ['OP', '='],
      ['ERRORTOKEN', ' '],
      ['ERRORTOKEN', "'"],
      ['NAME', 'abc'],
      ['NEWLINE', '\n'],
      ['NAME', 'y'],
      ['ERRORTOKEN', ' '],
      ['ERRORTOKEN', '$'],
      ['NEWLINE', ''],
      ['ENDMARKER', ''],
    ]);
  });
});
