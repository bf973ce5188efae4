import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { PageStrings } from './strings';

/**
 * The pages are Handlebars templates under templates/pages/ (no code there): one template per page
 * for every locale, the words coming from the page strings and the contracts' vocabulary. `{{…}}`
 * escapes for HTML, so a stranger's subject or CSID is shown as text; the layout takes the rendered
 * page with `{{{body}}}`, the only unescaped slot.
 */
export const PAGE_TEMPLATES_DIR = join(dirname(require.resolve('@faxnotify/templates/package.json')), 'pages');

export type PageName = 'sent' | 'fax' | 'sign-in' | 'not-found' | 'link-invalid' | 'inbox' | 'received';

export interface LayoutData {
  t: PageStrings;
  title: string;
  signedIn: boolean;
  /** The CSRF token the page's forms carry (the sign-out button's too). */
  csrf: string;
  inFolder?: boolean;
  /** The Inbox or a received fax: the nav marks the Inbox. */
  inInbox?: boolean;
  script?: string;
  languages: Array<{ code: string; name: string; href: string; current: boolean }>;
}

export class PageRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly pages: Record<PageName, Handlebars.TemplateDelegate>;
  private readonly layout: Handlebars.TemplateDelegate;
  /** The stylesheet, served at /assets/pages.css. */
  readonly css: string;

  constructor(dir = PAGE_TEMPLATES_DIR) {
    this.handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    for (const file of readdirSync(join(dir, 'partials')).filter((f) => f.endsWith('.hbs'))) {
      this.handlebars.registerPartial(file.slice(0, -4), readFileSync(join(dir, 'partials', file), 'utf8'));
    }
    const compile = (name: string) => this.handlebars.compile(readFileSync(join(dir, `${name}.hbs`), 'utf8'), { strict: false, noEscape: false });
    this.layout = compile('layout');
    this.pages = {
      sent: compile('sent'),
      fax: compile('fax'),
      'sign-in': compile('sign-in'),
      'not-found': compile('not-found'),
      'link-invalid': compile('link-invalid'),
      inbox: compile('inbox'),
      received: compile('received'),
    };
    this.css = readFileSync(join(dir, 'assets', 'pages.css'), 'utf8');
  }

  render(page: PageName, data: Record<string, unknown>, layout: LayoutData): string {
    const body = this.pages[page]({ ...data, t: layout.t });
    return this.layout({ ...layout, body });
  }
}
