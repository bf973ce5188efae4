export * from './errors';
export * from './logger';
export * from './config';
export * from './bus';
export * from './db';
export * from './http';
export * from './auth';
export * from './lifecycle';
