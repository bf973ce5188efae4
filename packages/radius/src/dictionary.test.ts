import { join } from 'node:path';
import { loadDictionary } from './dictionary';

const FIXTURE = join(__dirname, 'fixtures', 'dictionary.example');

describe('dictionaries', () => {
  it('loads a vendor dictionary beside the standard ones', () => {
    const dictionary = loadDictionary(FIXTURE);
    expect(dictionary.path).toBe(FIXTURE);
    expect(dictionary.vendorId('Example')).toBe(32473);
    expect(dictionary.vendorId('Nobody')).toBeUndefined();
    expect(dictionary.has('User-Name')).toBe(true);
    expect(dictionary.has('Example-Text')).toBe(false);
    expect(dictionary.has('Example-Text', 32473)).toBe(true);
    expect(dictionary.has('Example-Missing', 32473)).toBe(false);
  });

  it('loads the same file again under another spelling of its path', () => {
    const again = loadDictionary(`${__dirname}/../src/fixtures/./dictionary.example`);
    expect(again.path).toBe(FIXTURE);
    expect(again.has('Example-Command', 32473)).toBe(true);
  });

  it('refuses a file that does not exist', () => {
    expect(() => loadDictionary(join(__dirname, 'fixtures', 'dictionary.none'))).toThrow(/dictionary\.none does not exist/);
  });
});
