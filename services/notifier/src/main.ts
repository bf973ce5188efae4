import { runMain, stopOnSignals } from '@faxnotify/kit';
import { startNotifier } from './index';

runMain('notifier', async () => {
  const notifier = await startNotifier();
  stopOnSignals(notifier.logger, () => notifier.stop());
});
