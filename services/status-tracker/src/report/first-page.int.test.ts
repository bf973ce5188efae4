import { pageThumbnail } from '@faxnotify/fax-line';
import { letterDocument } from '@faxnotify/fax-line/testing';
import { createLogger } from '@faxnotify/kit';
import { StatusTracker } from '../tracker';
import { openTestDatabase, submitted, type TestDatabase } from '../testing/events';
import { loadFirstPage } from './content';

/**
 * fax.submitted's picture of the first page kept by the tracker (migration 010_fax_thumbnails) on
 * both databases: the PNG's bytes as they came; a picture that is not the PNG it says is left out,
 * and the fax recorded all the same.
 */
const dialects = process.env.TEST_POSTGRES_URL === 'none' ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);

describe.each(dialects)('the first page picture on %s', (dialect) => {
  let database: TestDatabase;
  let tracker: StatusTracker;
  const logger = createLogger('status-tracker-test', 'silent');

  beforeAll(async () => {
    database = await openTestDatabase(dialect, 'first-page');
    tracker = new StatusTracker({ db: database.db, faxUrlTemplate: 'http://127.0.0.1/faxes/{faxId}', logger });
  });
  afterAll(async () => {
    await database?.close();
    await database?.drop();
  });

  it('keeps the PNG as it came, once', async () => {
    const picture = pageThumbnail(letterDocument(1, 'fine').document.pages[0], { width: 200 });
    const event = submitted('fax-pic-1', 'alice', ['r1'], { firstPage: { png: picture.png.toString('base64'), width: 200, height: picture.height } });
    await tracker.handle(event);
    await tracker.handle(event);
    const stored = await loadFirstPage(database.db, 'fax-pic-1');
    expect(stored).toEqual({ png: picture.png, width: 200, height: picture.height });
    expect(await loadFirstPage(database.db, 'fax-without-picture')).toBeNull();
  });

  it('leaves out a picture that is not the PNG it says, and records the fax', async () => {
    const picture = pageThumbnail(letterDocument(1, 'fine').document.pages[0], { width: 200 });
    const warn = jest.spyOn(logger, 'warn');
    await tracker.handle(submitted('fax-pic-2', 'alice', ['r1'], { firstPage: { png: picture.png.toString('base64'), width: 100, height: 50 } }));
    await tracker.handle(
      submitted('fax-pic-3', 'alice', ['r1'], { firstPage: { png: Buffer.from('GIF89a not a png at all').toString('base64'), width: 1, height: 1 } }),
    );
    expect(await loadFirstPage(database.db, 'fax-pic-2')).toBeNull();
    expect(await loadFirstPage(database.db, 'fax-pic-3')).toBeNull();
    expect(warn).toHaveBeenCalledTimes(2);
    const faxes = await database.db.selectFrom('faxes').select('id').where('id', 'in', ['fax-pic-2', 'fax-pic-3']).execute();
    expect(faxes).toHaveLength(2);
  });
});
