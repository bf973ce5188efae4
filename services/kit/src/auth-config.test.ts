import { authSchema, commonSchema, loadConfig, trustProxyOption } from './config';

const schema = { ...commonSchema('auth-check', 0), ...authSchema() };
interface Loaded {
  auth: { audience: string; sessionHours: number; oidc: Record<string, string> };
  http: { publicUrl: string; trustProxy: string };
}
const load = (env: Record<string, string>) => loadConfig<Loaded>(schema, {}, { NODE_ENV: 'test', ...env });

describe('the sign-in settings', () => {
  it('have defaults that leave OpenID Connect off', () => {
    const config = load({});
    expect(config.auth).toMatchObject({ audience: 'faxnotify', sessionHours: 8, oidc: { issuer: '', scopes: 'openid profile email', userClaim: 'sub' } });
    expect(config.http).toMatchObject({ publicUrl: '', trustProxy: '' });
  });

  it('need a client id and the openid scope, and https unless the provider is on this machine', () => {
    expect(() => load({ OIDC_ISSUER: 'https://id.example.com' })).toThrow(/auth\.oidc\.clientId/);
    expect(() => load({ OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'fax', OIDC_SCOPES: 'profile' })).toThrow(/auth\.oidc\.scopes/);
    expect(() => load({ OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'fax' })).toThrow(/auth\.oidc\.issuer: must be an https URL/);
    expect(load({ OIDC_ISSUER: 'http://127.0.0.1:9000', OIDC_CLIENT_ID: 'fax' }).auth.oidc.issuer).toBe('http://127.0.0.1:9000');
    expect(() => load({ AUTH_CHECK_PUBLIC_URL: 'https://fax.example.com/' })).toThrow(/http\.publicUrl/);
  });

  it('turn http.trustProxy into what Fastify takes', () => {
    expect(trustProxyOption('')).toBe(false);
    expect(trustProxyOption('true')).toBe(true);
    expect(trustProxyOption('127.0.0.1, 10.0.0.0/8')).toEqual(['127.0.0.1', '10.0.0.0/8']);
    const hops = trustProxyOption('1') as (address: string, hop: number) => boolean;
    expect([hops('10.0.0.1', 0), hops('10.0.0.2', 1)]).toEqual([true, false]);
    expect(() => load({ AUTH_CHECK_TRUST_PROXY: 'everyone' })).toThrow(/http\.trustProxy/);
  });
});
