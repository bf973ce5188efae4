export * from './scripted';
