export * from './prepare';
