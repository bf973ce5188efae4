import { encodeWord } from 'nodemailer/lib/mime-funcs';

/** Text a mail client would take for an RFC 2047 encoded-word (`=?charset?B|Q?…?=`) and decode. */
const ENCODED_WORD = /=\?[^?\s]*\?[bq]\?[^?\s]*\?=/i;

/**
 * The Subject header for a notice's title, so that every mail client shows exactly the title's text.
 * nodemailer leaves an ASCII subject as it is, and a fax subject from a stranger may hold text that
 * reads as an encoded-word (`=?utf-8?q?a=0D=0ABcc:_x@example.com?=`): the reader's client would
 * decode it and show what the sender chose, even on two lines. Such a title is encoded here as
 * base64 encoded-words, which a client decodes once, to the literal text. Any other title is left
 * to nodemailer, which encodes non-ASCII text itself.
 */
export function subjectHeader(title: string): string {
  return ENCODED_WORD.test(title) ? encodeWord(title, 'B', 52) : title;
}
