import { runMain, stopOnSignals } from '@faxnotify/kit';
import { startTransmitter } from './index';

runMain('transmitter', async () => {
  const service = await startTransmitter();
  stopOnSignals(service.logger, () => service.stop());
});
