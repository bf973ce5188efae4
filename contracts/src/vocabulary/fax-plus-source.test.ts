import { FAX_PLUS_STATUSES, FAX_PLUS_STATUS_TABLE, FAX_PLUS_UNDESCRIBED } from './fax-plus-source';
import { FINAL_STATUSES, FINAL_STATUS_INFO, LOCALES, isFinalStatus, type StatusText } from './statuses';

/** A key word is found where a word starts with it, ignoring case: "area code" is in "area codes", "valid" is not in "invalid". */
function hasWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}`, 'iu').test(text);
}

/** The source's key words for `status` that our English text leaves out. */
function missingKeyWords(status: string, text: Pick<StatusText, 'description' | 'advice'>): string[] {
  const row = FAX_PLUS_STATUS_TABLE[status];
  if (row === undefined) throw new Error(`the source's table has no row for ${status}`);
  return row.keyWords.filter((word) => !hasWord(text.description, word) && !hasWord(text.advice, word));
}

const describedStatuses = FINAL_STATUSES.filter((status) => !FAX_PLUS_UNDESCRIBED.includes(status));

describe("our final statuses against Fax.Plus's table", () => {
  it('has exactly the source’s 23 statuses, in its order: none added, none missing', () => {
    expect(FAX_PLUS_STATUSES).toHaveLength(23);
    expect([...FINAL_STATUSES]).toEqual([...FAX_PLUS_STATUSES]);
    expect(Object.keys(FINAL_STATUS_INFO)).toEqual([...FAX_PLUS_STATUSES]);
  });

  it('has a row of the source’s table for every status but the ones it leaves undescribed, and no row for anything else', () => {
    expect(FAX_PLUS_UNDESCRIBED).toEqual(['failed_fs_2']);
    for (const status of FAX_PLUS_UNDESCRIBED) expect(isFinalStatus(status)).toBe(true);
    expect(Object.keys(FAX_PLUS_STATUS_TABLE)).toEqual(describedStatuses);
    expect(Object.keys(FAX_PLUS_STATUS_TABLE)).toHaveLength(22);
  });

  it('takes every key word from the source’s own description', () => {
    for (const [status, row] of Object.entries(FAX_PLUS_STATUS_TABLE)) {
      expect({ status, keyWords: row.keyWords.length > 0 }).toEqual({ status, keyWords: true });
      const notInSource = row.keyWords.filter((word) => !hasWord(row.description, word));
      expect({ status, notInSource }).toEqual({ status, notInSource: [] });
    }
  });

  it('says in English what the source says each status means', () => {
    for (const status of describedStatuses) {
      expect({ status, missing: missingKeyWords(status, FINAL_STATUS_INFO[status].text.en) }).toEqual({ status, missing: [] });
    }
  });

  it('has its own words in every locale for a status the source leaves undescribed', () => {
    for (const status of FAX_PLUS_UNDESCRIBED) {
      expect(isFinalStatus(status)).toBe(true);
      if (!isFinalStatus(status)) continue;
      for (const locale of LOCALES) {
        const text = FINAL_STATUS_INFO[status].text[locale];
        expect([text.label, text.description, text.advice].every((part) => part.trim() !== '')).toBe(true);
      }
    }
  });

  it('catches a text that drifted from the source: the descriptions these three statuses once had', () => {
    expect(
      missingKeyWords('failed_fs_49', {
        description: 'The carrier could not route the call to this number with the required quality of service (network cause 49).',
        advice: 'Try again later; if it keeps failing, contact support, as this destination may not be reachable through our carrier.',
      }),
    ).toEqual(['remote fax machine disconnected unexpectedly', 'some pages may have been transmitted']);
    expect(
      missingKeyWords('failed_normal_clearing', {
        description:
          'The call was answered but ended before the fax was complete, usually because a person or a voice line answered or the other side hung up.',
        advice: 'Check with the recipient that this number is a fax line, then send the fax again.',
      }),
    ).toEqual(['destination was busy', 'wait and retry']);
    expect(
      missingKeyWords('failed_to_send', {
        description: "The call went through, but the fax could not be transmitted to the recipient's machine.",
        advice: 'Send the fax again later; if it keeps failing, ask the recipient to check their fax machine and line.',
      }),
    ).toEqual(['system was busy', 'try again later']);
  });

  it('finds a key word only at the start of a word, ignoring case', () => {
    expect(hasWord('Check the area codes', 'area code')).toBe(true);
    expect(hasWord('RETRY now', 'retry')).toBe(true);
    expect(hasWord('The number is invalid', 'valid')).toBe(false);
    expect(hasWord('File is password-protected.', 'password-protected')).toBe(true);
  });
});
