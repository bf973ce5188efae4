import { createServer } from 'node:net';
import { freePort } from './ports';
import { eventually } from './wait';

describe('eventually', () => {
  it('resolves with the first truthy value, trying again after a throw or a falsy answer', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return calls === 3 ? { calls } : undefined;
      },
      2_000,
      5,
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('gives up after its time and names the last error', async () => {
    await expect(eventually(() => Promise.reject(new Error('broker unreachable')), 50, 10)).rejects.toThrow(/within 50 ms: Error: broker unreachable/);
    await expect(eventually(() => false, 30, 10)).rejects.toThrow(/^condition not met within 30 ms$/);
  });
});

describe('freePort', () => {
  it('names a loopback port a server can listen on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
