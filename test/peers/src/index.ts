export * from './chromium';
export * from './ports';
export * from './rabbit';
export * from './smtp';
export * from './wait';
export * from './oidc-provider';
