/**
 * A RADIUS server for authentication (RFC 2865) and accounting (RFC 2866): FreeRADIUS-format
 * dictionaries, packet checks (shared secret, Message-Authenticator, framing), typed attribute
 * readers, signed replies, and the UDP server that hands each proper request to its handler.
 * What the attributes mean is the caller's business.
 */
export * from './dictionary';
export * from './packet';
export * from './server';
export * from './limit';
export * from './sign';
