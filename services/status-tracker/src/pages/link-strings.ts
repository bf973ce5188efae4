import type { Locale } from '@faxnotify/contracts';

/** The words of notice links on the pages: the fax page opened from a link, a link that no longer works, signing out all links. */
export interface LinkStrings {
  /** On a fax page opened through a notice's link, for a viewer not signed in. */
  viaLink: string;
  signInForMore: string;
  invalidTitle: string;
  invalidText: string;
  signIn: string;
  revokeHelp: string;
  revokeButton: string;
  /** After "sign out all links"; `{n}` is how many links stopped working. */
  revoked: string;
}

const en: LinkStrings = {
  viaLink: 'You opened this fax from a link in a notice: it shows this fax only.',
  signInForMore: 'Sign in to see your Sent folder',
  invalidTitle: 'This link no longer works',
  invalidText: 'The link has expired, was signed out by its owner, or is incomplete. Sign in to see your faxes.',
  signIn: 'Sign in',
  revokeHelp:
    'The links in the notices sent to you open their fax without signing in. If a notice reached someone else, sign out every link sent so far: each will ask for a sign-in.',
  revokeButton: 'Sign out all links',
  revoked: 'Every link sent so far is signed out ({n}); they now ask for a sign-in.',
};

const ru: LinkStrings = {
  viaLink: 'Вы открыли этот факс по ссылке из уведомления: она показывает только этот факс.',
  signInForMore: 'Войдите, чтобы увидеть папку «Отправленные»',
  invalidTitle: 'Эта ссылка больше не действует',
  invalidText: 'Срок действия ссылки истёк, владелец отозвал её, или она неполная. Войдите, чтобы увидеть свои факсы.',
  signIn: 'Войти',
  revokeHelp:
    'Ссылки в уведомлениях открывают свой факс без входа. Если уведомление попало к постороннему, отзовите все отправленные ссылки: каждая будет требовать вход.',
  revokeButton: 'Отозвать все ссылки',
  revoked: 'Все отправленные ссылки отозваны ({n}); теперь они требуют вход.',
};

const it: LinkStrings = {
  viaLink: 'Hai aperto questo fax da un link in una notifica: mostra solo questo fax.',
  signInForMore: 'Accedi per vedere la cartella Inviati',
  invalidTitle: 'Questo link non funziona più',
  invalidText: 'Il link è scaduto, è stato revocato dal proprietario o è incompleto. Accedi per vedere i tuoi fax.',
  signIn: 'Accedi',
  revokeHelp:
    'I link nelle notifiche aprono il loro fax senza accesso. Se una notifica è arrivata a qualcun altro, revoca tutti i link inviati finora: ognuno chiederà l’accesso.',
  revokeButton: 'Revoca tutti i link',
  revoked: 'Tutti i link inviati finora sono revocati ({n}); ora chiedono l’accesso.',
};

export const LINK_STRINGS: Record<Locale, LinkStrings> = { en, ru, it };
