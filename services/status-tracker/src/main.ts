import { runMain, stopOnSignals } from '@faxnotify/kit';
import { startStatusTracker } from './index';

runMain('status-tracker', async () => {
  const service = await startStatusTracker();
  stopOnSignals(service.logger, () => service.stop());
});
