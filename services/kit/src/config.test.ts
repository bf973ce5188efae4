import { ConfigError } from './errors';
import { commonSchema, describeConfig, loadConfig } from './config';

const schema = { ...commonSchema('example', 8099) };

describe('loadConfig', () => {
  it('takes defaults and the environment', () => {
    const config = loadConfig(schema, {}, { AMQP_URL: 'amqp://u:p@broker:5672/vh', EXAMPLE_HTTP_PORT: '9000' });
    expect(config.amqp.url).toBe('amqp://u:p@broker:5672/vh');
    expect(config.http.port).toBe(9000);
    expect(config.db.sqlitePath).toBe('var/example.sqlite');
  });

  it('stops on a wrong value with a message naming the key', () => {
    expect(() => loadConfig(schema, {}, { AMQP_URL: 'http://nope' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, {}, { AMQP_URL: 'http://nope' })).toThrow(/amqp\.url/);
    expect(() => loadConfig(schema, {}, { EXAMPLE_DATABASE_URL: 'mysql://x' })).toThrow(/db\.url/);
    expect(() => loadConfig(schema, {}, { LOG_LEVEL: 'loud' })).toThrow(/log\.level/);
  });

  it('takes the nodes of a cluster as a comma-separated list of amqp URLs', () => {
    const nodes = 'amqp://u:p@127.0.0.1:5681/vh,amqp://u:p@127.0.0.1:5682/vh, amqp://u:p@127.0.0.1:5683/vh';
    expect(loadConfig(schema, {}, { AMQP_URL: nodes }).amqp.url).toBe(nodes);
    expect(() => loadConfig(schema, {}, { AMQP_URL: 'amqp://a:1/vh,http://b' })).toThrow(/amqp\.url: must be an amqp:\/\/ or amqps:\/\/ URL, or several/);
  });

  it('refuses unknown keys', () => {
    expect(() => loadConfig(schema, { 'http.colour': 'red' })).toThrow(/http\.colour/);
  });

  it('describes every key with its environment variable, hiding secret defaults', () => {
    const rows = describeConfig(schema);
    expect(rows.find((r) => r.key === 'amqp.url')).toMatchObject({ env: 'AMQP_URL', sensitive: true, default: '(secret)' });
    expect(rows.every((r) => r.doc.length > 0)).toBe(true);
  });
});
