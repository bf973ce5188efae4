/**
 * The fax page's only script: while the fax is in progress it listens to the page's server-sent
 * events and, on each update, fetches the page again and swaps in the new <main>, keeping focus
 * where it was. Without JavaScript the page is complete, just not live (it has a Refresh link).
 */
export const LIVE_SCRIPT = `(() => {
  const summary = document.querySelector('[data-live-events]');
  if (!summary || !('EventSource' in window)) return;
  const source = new EventSource(summary.getAttribute('data-live-events'));
  let refreshing = false;
  let again = false;
  const refresh = async () => {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      do {
        again = false;
        const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
        if (!response.ok) return;
        const page = new DOMParser().parseFromString(await response.text(), 'text/html');
        const fresh = page.querySelector('main');
        const current = document.querySelector('main');
        if (!fresh || !current) return;
        const focusedId = document.activeElement && document.activeElement.id;
        const open = [...current.querySelectorAll('details[open]')].map((d) => d.closest('tr') && d.closest('tr').dataset.recipient);
        current.innerHTML = fresh.innerHTML;
        for (const id of open) { const row = id && current.querySelector('tr[data-recipient="' + CSS.escape(id) + '"] details'); if (row) row.open = true; }
        if (focusedId) { const el = document.getElementById(focusedId); if (el) el.focus(); }
        document.title = page.title;
      } while (again);
    } catch (error) {
      // A failed refresh leaves the page as it was; the next update tries again.
    } finally {
      refreshing = false;
    }
  };
  source.addEventListener('update', refresh);
  source.addEventListener('end', () => { source.close(); refresh(); });
})();
`;
