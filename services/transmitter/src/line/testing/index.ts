export * from './fax-line-peer';
export * from './sample-pages';
