export * from './prosody';
export * from './xmpp-client';
