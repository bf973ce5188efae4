/** Receiving on our lines: a loop per answering line that records each fax and its fax.received event. */
export { ReceiveLoop, startReceiving, type ReceiveLoopOptions } from './loop';
export { faxReceivedData, isReceivedFax, ownerFor, receivedEvent, recordReceivedFax } from './record';
export type { ReceivingLine } from './types';
