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
