import { tokenUrlTemplateOf } from './links';
import { describeLinkTokens } from './links.suite';

describeLinkTokens('sqlite');

it('places token links beside the fax pages unless a template is set', () => {
  expect(tokenUrlTemplateOf('http://127.0.0.1:8082/faxes/{faxId}', '')).toBe('http://127.0.0.1:8082/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/app/faxes/{faxId}', '')).toBe('https://fax.example.test/app/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/f/{faxId}', '')).toBe('https://fax.example.test/l/{token}');
  expect(tokenUrlTemplateOf('https://fax.example.test/f/{faxId}', 'https://x.example.test/{token}')).toBe('https://x.example.test/{token}');
});
