// test/peers is a workspace of its own (@faxnotify/peers) with its own jest run: not collected here.
module.exports = require('../jest.preset.js')({ testTimeout: 120000, testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/peers/'] });
