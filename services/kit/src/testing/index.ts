export * from './rabbit';
export * from './smtp';
