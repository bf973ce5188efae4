// Shared jest settings: swc transpiles TypeScript (type checking is `tsc`'s job in the build),
// workspace packages resolve to their sources so tests never need a prior build,
// and the ESM-only packages are transpiled too (cookie: the one fastify's inject reads cookies with; openid-client and oidc-provider: the sign-in and its test provider).
const path = require('node:path');

module.exports = function preset(overrides = {}) {
  return {
    testEnvironment: 'node',
    transform: { '^.+\\.[tj]s$': ['@swc/jest'] },
    transformIgnorePatterns: ['/node_modules/(?!(@xmpp|ltx|jose|cookie|openid-client|oauth4webapi|oidc-provider)/)'],
    moduleNameMapper: {
      '^@faxnotify/contracts$': path.join(__dirname, 'contracts/src'),
      '^@faxnotify/radius/testing$': path.join(__dirname, 'packages/radius/src/testing'),
      '^@faxnotify/radius$': path.join(__dirname, 'packages/radius/src'),
      '^@faxnotify/peers$': path.join(__dirname, 'test/peers/src'),
      '^@faxnotify/notifier/testing$': path.join(__dirname, 'services/notifier/src/testing'),
      '^@faxnotify/fax-line/testing$': path.join(__dirname, 'packages/fax-line/src/testing'),
      '^@faxnotify/fax-line$': path.join(__dirname, 'packages/fax-line/src'),
      '^@faxnotify/transmitter/testing$': path.join(__dirname, 'services/transmitter/src/testing'),
      '^@faxnotify/(kit|transmitter|status-tracker|notifier)$': path.join(__dirname, 'services/$1/src'),
    },
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    ...overrides,
  };
};
