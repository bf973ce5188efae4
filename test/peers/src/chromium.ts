/**
 * How tests start Debian's Chromium (deploy/peers/chromium.sh installs it) headless on this
 * machine: as root it needs no sandbox, and nothing in it may reach for the network, which is
 * closed here (background networking, component updates, sync, QUIC).
 */
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/** What a page's content security policy blocked, as Chromium reports it. */
export interface CspViolation {
  directive: string;
  blocked: string;
  url: string;
}

/** The part of a Playwright browser context this needs (the peers do not depend on Playwright). */
interface ScriptableContext {
  exposeBinding(name: string, callback: (source: unknown, violation: CspViolation) => void): Promise<unknown>;
  addInitScript(script: { content: string }): Promise<unknown>;
}

/** Collects into `violations` every securitypolicyviolation event of every page the context opens. */
export async function collectCspViolations(context: ScriptableContext, violations: CspViolation[]): Promise<void> {
  await context.exposeBinding('reportCspViolation', (_source, violation) => {
    violations.push(violation);
  });
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      window.reportCspViolation({ directive: event.violatedDirective, blocked: event.blockedURI, url: location.href });
    });`,
  });
}
