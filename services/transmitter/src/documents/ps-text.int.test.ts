import { execFileSync } from 'node:child_process';
import { fontPrologue, postScriptText, TEXT_FONT_FILE } from './ps-text';

/**
 * Runs the PostScript postScriptText makes for `text` in Ghostscript with show and glyphshow
 * redefined to print what they were given: what comes back is what would have been drawn, and
 * nothing else ran.
 */
function interpret(text: string): string {
  const program = `/show { print } def /glyphshow { (<) print 100 string cvs print (>) print } def\n${postScriptText(text)}\n(|END) print flush\n`;
  return execFileSync('gs', ['-q', '-dNODISPLAY', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-'], { input: program }).toString();
}

describe('text for PostScript', () => {
  it('draws hostile text as text: no string ends early, nothing of it runs', () => {
    const hostile = String.raw`a) show (x) print quit (b \) %comment {showpage} \\ <41> /x 1 def`;
    expect(interpret(hostile)).toBe(`${hostile}|END`);
  });

  it('an unbalanced parenthesis, a backslash at the end and control characters stay inside the text', () => {
    expect(interpret('((( \\')).toBe('((( \\|END');
    expect(interpret('line\nbreak\r\x00x')).toBe('line break  x|END');
  });

  it('every glyph named for Cyrillic, Italian and common marks is in the font (not its empty box)', () => {
    const text = 'АБВЖЯабвжяЁё àèéìòùÀÈÉ … « » – — € ‘’“”';
    const program = `${fontPrologue()}/DejaVuSans findfont /CharStrings get /cs exch def
/glyphshow { dup cs exch known { pop } { (missing ) print = } ifelse } def /show { pop } def
${postScriptText(text)}\n(|END) print flush\n`;
    const out = execFileSync('gs', ['-q', '-dNODISPLAY', '-dSAFER', '-dBATCH', '-dNOPAUSE', `--permit-file-read=${TEXT_FONT_FILE}`, '-'], { input: program });
    expect(out.toString()).toBe('|END');
  });

  it('letters outside ASCII become glyph names, so Cyrillic and accents are drawn by the font', () => {
    expect(interpret('Жà…')).toBe('<uni0416><agrave><ellipsis>|END');
  });
});
