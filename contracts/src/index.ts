export * from './vocabulary/statuses';
export * from './events/common';
export * from './events/definitions';
export * from './events/inbound';
export * from './events/resend';
export * from './envelope';
export * from './topology';
