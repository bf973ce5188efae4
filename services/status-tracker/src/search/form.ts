import { AGGREGATE_LABELS, AGGREGATE_STATES, RECEIVE_STATUSES } from '@faxnotify/contracts';
import { INBOX_STRINGS } from '../inbox/strings';
import type { PageContext } from '../pages/routes';
import { MAX_TEXT, SEARCH_PARAMS, isSearch, parseSearch, type SearchFilters, type SearchKind } from './filters';
import { SEARCH_STRINGS } from './strings';

interface Field {
  name: string;
  label: string;
  type: 'text' | 'date';
  value: string;
  maxLength: number;
  inputmode?: string;
  options?: Array<{ value: string; label: string; selected: boolean }>;
}

/** What the search form partial (templates/pages/partials/search-form.hbs) shows. */
export interface SearchForm {
  label: string;
  action: string;
  hidden: Array<{ name: string; value: string }>;
  fields: Field[];
  submit: string;
  clear: string;
  clearHref: string;
  active: boolean;
  csv: string;
  csvHref: string;
  unreadable: string;
}

export interface PageSearch {
  filters: SearchFilters;
  /** The search as a query string (without `?`), '' for none: the paging links carry it. */
  query: string;
  form: SearchForm;
  noMatch: string;
}

/**
 * The search on a folder page: the filters read from the query string (a value that cannot be read
 * is left out, and the form says so), and the form above the list showing what was asked, with the
 * link to the same search as CSV (in the viewer's language and time zone).
 */
export function pageSearch(kind: SearchKind, query: Record<string, unknown>, context: PageContext, hidden: Record<string, string> = {}): PageSearch {
  const s = SEARCH_STRINGS[context.locale];
  const parsed = parseSearch(kind, query, context.tz, true);
  const { filters, params, dropped } = parsed.ok ? parsed : { filters: {}, params: new URLSearchParams(), dropped: [] };
  const given = (name: string) => (typeof query[name] === 'string' ? query[name].slice(0, MAX_TEXT) : '');
  const labels: Record<string, string> = { number: kind === 'sent' ? s.number : s.callerNumber, subject: s.subject, csid: s.csid, from: s.from, to: s.to };
  const choices =
    kind === 'sent'
      ? AGGREGATE_STATES.map((state) => ({ value: state, label: AGGREGATE_LABELS[context.locale][state] }))
      : RECEIVE_STATUSES.map((status) => ({ value: status, label: INBOX_STRINGS[context.locale].status[status] }));
  const fields: Field[] = SEARCH_PARAMS[kind].map((name): Field => {
    if (name === 'state' || name === 'status') {
      const value = params.get(name) ?? '';
      return {
        name,
        label: name === 'state' ? s.state : s.status,
        type: 'text',
        value,
        maxLength: MAX_TEXT,
        options: [{ value: '', label: s.any, selected: value === '' }, ...choices.map((c) => ({ ...c, selected: c.value === value }))],
      };
    }
    const date = name === 'from' || name === 'to';
    return {
      name,
      label: labels[name],
      type: date ? 'date' : 'text',
      value: given(name),
      maxLength: MAX_TEXT,
      ...(name === 'number' ? { inputmode: 'tel' } : {}),
    };
  });
  const action = kind === 'sent' ? '/faxes' : '/inbox';
  const keep = new URLSearchParams(hidden);
  const csv = new URLSearchParams([...params, ...keep, ['tz', context.tz], ['lang', context.locale]]);
  return {
    filters,
    query: params.toString(),
    noMatch: isSearch(filters) ? s.noMatch : '',
    form: {
      label: kind === 'sent' ? s.sentForm : s.inboxForm,
      action,
      hidden: [...keep].map(([name, value]) => ({ name, value })),
      fields,
      submit: s.search,
      clear: s.clear,
      clearHref: keep.size > 0 ? `${action}?${keep.toString()}` : action,
      active: isSearch(filters) || dropped.length > 0,
      csv: s.csv,
      csvHref: `/v1/${kind === 'sent' ? 'faxes' : 'received'}.csv?${csv.toString()}`,
      unreadable: dropped.length > 0 ? s.unreadable : '',
    },
  };
}
