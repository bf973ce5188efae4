import { RecentMap } from './recent-map';

describe('RecentMap', () => {
  it('keeps the entries set last and drops the oldest', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('c', 3);
    expect([...map]).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('keeps the place of a key set again; delete and set makes it the newest', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 10);
    map.set('c', 3);
    expect([...map.keys()]).toEqual(['b', 'c']);
    map.delete('b');
    map.set('b', 2);
    map.set('d', 4);
    expect([...map.keys()]).toEqual(['b', 'd']);
  });

  it('refuses a size under one', () => {
    expect(() => new RecentMap(0)).toThrow('at least one entry');
  });
});
