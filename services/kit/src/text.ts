/**
 * Text from strangers (fax subject, remote CSID, line detail, provider reasons) made safe as one
 * plain line for any medium, a page or a notice: control characters (CR/LF included, so no header
 * injection) and direction-override characters (which could make a number read backwards) become
 * spaces, runs of white space fold, and the length is bounded with an ellipsis. The zero-width
 * joiner and non-joiner stay: emoji sequences (👩‍👩‍👧) and Persian or Indic words need them to read
 * right, and neither can hide or reorder text. HTML escaping is the templates' job.
 */
export function plainText(value: string | null | undefined, max: number): string {
  const folded = (value ?? '')
    .replace(/[\p{Cc}\u2028\u2029\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...folded];
  return chars.length > max
    ? `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`
    : folded;
}
