export * from './vocabulary/statuses';
export * from './events/common';
export * from './events/definitions';
export * from './envelope';
export * from './topology';
