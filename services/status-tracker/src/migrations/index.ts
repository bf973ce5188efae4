import type { Dialect, Migration } from '@faxnotify/kit';
import { initial } from './001_initial';
import { ownerView } from './002_owner_view';
import { secretsAtRest } from './003_secrets_at_rest';
import { noticeFacts } from './004_notice_facts';
import { faxOrigin } from './005_fax_origin';
import { offices } from './006_offices';
import { linkTokens } from './007_link_tokens';
import { rateLimits } from './008_rate_limits';
import { inbox } from './009_inbox';
import { faxThumbnails } from './010_fax_thumbnails';
import { resends } from './011_resends';

/** Every migration, in order of their names; run at start-up by kit's openDatabase. */
export const trackerMigrations = (dialect: Dialect): Record<string, Migration> => ({
  '001_initial': initial(dialect),
  '002_owner_view': ownerView(),
  '003_secrets_at_rest': secretsAtRest(dialect),
  '004_notice_facts': noticeFacts(),
  '005_fax_origin': faxOrigin(),
  '006_offices': offices(),
  '007_link_tokens': linkTokens(),
  '008_rate_limits': rateLimits(),
  '009_inbox': inbox(dialect),
  '010_fax_thumbnails': faxThumbnails(dialect),
  '011_resends': resends(),
});
