export * from './rabbit';
export * from './smtp';
export * from './prosody';
export * from './xmpp';
export * from './twilio';
