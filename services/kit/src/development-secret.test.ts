import { authSchema, commonSchema, DEVELOPMENT_JWT_SECRET, loadConfig } from './config';
import { ConfigError } from './errors';

const schema = { ...commonSchema('secret-check', 0), ...authSchema() };
const load = (env: Record<string, string>) => loadConfig(schema, {}, env);

describe('the built-in development JWT secret', () => {
  it('is refused outside tests, with an error naming the setting and how to set it', () => {
    expect(() => load({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => load({ NODE_ENV: 'production' })).toThrow(/auth\.jwtSecret: the built-in development secret is refused.*set JWT_SECRET/);
    // A JSON file or an override that sets the same value is refused alike.
    expect(() => loadConfig(schema, { 'auth.jwtSecret': DEVELOPMENT_JWT_SECRET }, { NODE_ENV: 'development' })).toThrow(/auth\.jwtSecret/);
  });

  it('is taken when the operator allows it for a trial, or in tests', () => {
    expect(load({ NODE_ENV: 'production', JWT_ALLOW_DEVELOPMENT_SECRET: 'true' }).auth.jwtSecret).toBe(DEVELOPMENT_JWT_SECRET);
    expect(load({ NODE_ENV: 'test' }).auth.jwtSecret).toBe(DEVELOPMENT_JWT_SECRET);
  });

  it('does not stand in the way of a secret of the operator’s own', () => {
    expect(load({ NODE_ENV: 'production', JWT_SECRET: 'an-operator-secret-of-some-length' }).auth.jwtSecret).toBe('an-operator-secret-of-some-length');
  });
});
