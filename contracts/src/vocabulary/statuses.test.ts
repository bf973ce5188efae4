import {
  AGGREGATE_LABELS,
  AGGREGATE_STATES,
  FINAL_STATUSES,
  FINAL_STATUS_INFO,
  LOCALES,
  NO_SUBJECT,
  OUTCOME_LABELS,
  PROGRESS_LABELS,
  PROGRESS_STATUSES,
  aggregateState,
  describeStatus,
  isFinalStatus,
  type FinalStatus,
  type ProgressStatus,
} from './statuses';

type Recipient = { status: FinalStatus | ProgressStatus; pagesSent: number; pagesTotal: number };

/** Every string reachable from a value, with the path that leads to it. */
function stringsIn(value: unknown, path: string): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => stringsIn(inner, `${path}.${key}`));
  }
  return [];
}

describe('final status vocabulary', () => {
  it('lists the 23 Fax.Plus final statuses once each, each with its info', () => {
    expect(FINAL_STATUSES).toHaveLength(23);
    expect(new Set(FINAL_STATUSES).size).toBe(23);
    expect(Object.keys(FINAL_STATUS_INFO).sort()).toEqual([...FINAL_STATUSES].sort());
  });

  it('has a non-empty label, description and advice for every status in every locale', () => {
    for (const status of FINAL_STATUSES) {
      for (const locale of LOCALES) {
        const text = FINAL_STATUS_INFO[status].text[locale];
        expect(text.label.trim()).not.toBe('');
        expect(text.description.trim()).not.toBe('');
        expect(text.advice.trim()).not.toBe('');
      }
    }
  });

  it('has labels for every outcome, aggregate state, progress status and the missing subject in every locale', () => {
    for (const locale of LOCALES) {
      for (const outcome of ['delivered', 'partial', 'failed'] as const) expect(OUTCOME_LABELS[locale][outcome].trim()).not.toBe('');
      for (const state of AGGREGATE_STATES) expect(AGGREGATE_LABELS[locale][state].trim()).not.toBe('');
      for (const status of PROGRESS_STATUSES) expect(PROGRESS_LABELS[locale][status].trim()).not.toBe('');
      expect(NO_SUBJECT[locale].trim()).not.toBe('');
    }
  });

  it('holds no template syntax and no control characters in any text', () => {
    const texts = stringsIn({ FINAL_STATUS_INFO, OUTCOME_LABELS, AGGREGATE_LABELS, PROGRESS_LABELS, NO_SUBJECT }, 'vocabulary');
    expect(texts.length).toBeGreaterThan(23 * 3 * 3);
    for (const [path, text] of texts) {
      expect({ path, hasTemplateSyntax: text.includes('{{') || text.includes('}}') }).toEqual({ path, hasTemplateSyntax: false });
      // eslint-disable-next-line no-control-regex -- the test looks for control characters on purpose
      expect({ path, hasControl: /[\u0000-\u001f\u007f-\u009f]/.test(text) }).toEqual({ path, hasControl: false });
    }
  });

  it('maps outcomes: success delivered, partial statuses partial, failures failed', () => {
    expect(FINAL_STATUS_INFO.success.outcome).toBe('delivered');
    expect(FINAL_STATUS_INFO.partially_sent.outcome).toBe('partial');
    expect(FINAL_STATUS_INFO.partially_received.outcome).toBe('partial');
    expect(FINAL_STATUS_INFO.failed_user_busy.outcome).toBe('failed');
    const others = FINAL_STATUSES.filter((s) => !['success', 'partially_sent', 'partially_received'].includes(s));
    expect(others).toHaveLength(20);
    for (const status of others) expect(FINAL_STATUS_INFO[status].outcome).toBe('failed');
  });

  it('marks line conditions retryable and wrong numbers or documents not', () => {
    for (const s of ['failed_user_busy', 'failed_no_answer', 'failed_normal_temporary_failure'] as const) {
      expect(FINAL_STATUS_INFO[s].retryable).toBe(true);
    }
    for (const s of [
      'failed_unallocated_number',
      'failed_invalid_number_format',
      'failed_mimetype_not_supported',
      'failed_destination_not_supported',
      'failed_convert_to_tiff_issue',
      'failed_office_converter_issue',
    ] as const) {
      expect(FINAL_STATUS_INFO[s].retryable).toBe(false);
    }
    expect(FINAL_STATUS_INFO.insufficient_credit.cause).toBe('account');
    expect(FINAL_STATUS_INFO.failed_unallocated_number.cause).toBe('number');
    expect(FINAL_STATUS_INFO.failed_convert_to_tiff_issue.cause).toBe('document');
  });

  it('describes a status in the asked locale with its outcome and retryability', () => {
    expect(describeStatus('failed_user_busy', 'en')).toEqual({
      ...FINAL_STATUS_INFO.failed_user_busy.text.en,
      outcome: 'failed',
      retryable: true,
    });
    expect(describeStatus('failed_user_busy', 'ru').label).toBe('Линия занята');
    expect(describeStatus('failed_user_busy', 'it').label).toBe('Linea occupata');
  });

  it('recognises final statuses and nothing else', () => {
    for (const status of FINAL_STATUSES) expect(isFinalStatus(status)).toBe(true);
    for (const status of PROGRESS_STATUSES) expect(isFinalStatus(status)).toBe(false);
    for (const other of ['', 'SUCCESS', 'toString', '__proto__', 'constructor']) expect(isFinalStatus(other)).toBe(false);
  });
});

describe('aggregateState', () => {
  const success: Recipient = { status: 'success', pagesSent: 3, pagesTotal: 3 };
  const busy: Recipient = { status: 'failed_user_busy', pagesSent: 0, pagesTotal: 3 };

  it('is delivered when every recipient succeeded', () => {
    expect(aggregateState([success, { ...success }])).toBe('delivered');
  });

  it('counts success as every page even when the page counter lags', () => {
    expect(aggregateState([{ status: 'success', pagesSent: 0, pagesTotal: 3 }])).toBe('delivered');
  });

  it('is failed when no recipient got any page', () => {
    expect(aggregateState([busy, { status: 'failed_no_answer', pagesSent: 0, pagesTotal: 3 }])).toBe('failed');
  });

  it('is partial when one recipient succeeded and another failed', () => {
    expect(aggregateState([success, busy])).toBe('partial');
  });

  it('is partial when a failed recipient still got a page', () => {
    expect(aggregateState([{ status: 'failed_normal_clearing', pagesSent: 1, pagesTotal: 3 }])).toBe('partial');
  });

  it('is partial for a partially sent recipient', () => {
    expect(aggregateState([{ status: 'partially_sent', pagesSent: 2, pagesTotal: 3 }])).toBe('partial');
  });

  it('is in_progress while any recipient is not final', () => {
    for (const status of PROGRESS_STATUSES) {
      expect(aggregateState([success, busy, { status, pagesSent: 0, pagesTotal: 3 }])).toBe('in_progress');
    }
  });

  it('is in_progress for a fax with no recipients yet', () => {
    expect(aggregateState([])).toBe('in_progress');
  });
});
