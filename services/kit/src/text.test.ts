import { plainText } from './text';

describe('plainText', () => {
  it("strips control and bidirectional characters from strangers' text", () => {
    expect(plainText('A\u0000B\u001bC\u202eD\r\nE', 100)).toBe('A B C D E');
    expect(plainText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('turns C1 controls, line and paragraph separators, zero-width and isolate characters into folded spaces', () => {
    expect(plainText('+39\u0085 06\u2028123\u200b4\u2066567\u2069 ', 100)).toBe('+39 06 123 4 567');
    expect(plainText(null, 10)).toBe('');
    expect(plainText(undefined, 10)).toBe('');
  });

  it('bounds the length by characters, not UTF-16 units, and trims before the ellipsis', () => {
    expect(plainText('😀'.repeat(5), 3)).toBe('😀😀…');
    expect(plainText('ab cd', 4)).toBe('ab…');
  });
});

describe('plainText and joiners', () => {
  it('keeps the zero-width joiner and non-joiner that emoji sequences and Persian words need', () => {
    expect(plainText('family 👩\u200d👩\u200d👧', 100)).toBe('family 👩\u200d👩\u200d👧');
    expect(plainText('می\u200cخواهم', 100)).toBe('می\u200cخواهم');
    expect(plainText('a\u200bb\u200ec\u200fd', 100)).toBe('a b c d');
  });
});
