/**
 * The peers the notifier's channels talk to, for its own tests, the cross-service tests and the
 * demo: a Twilio-compatible endpoint held to Twilio's OpenAPI document, a private Prosody per
 * suite and an XMPP user's client. The peers every service shares are in @faxnotify/peers.
 */
export * from '../channels/sms/testing';
export * from '../channels/xmpp/testing';
/** Addresses recorded as confirmed straight in a notifier's database, for suites, the bench and the demo not about confirmation. */
export { seedConfirmedAddresses, type ConfirmedAddresses } from './confirmed';
/** The id a notice carries on every channel (Message-ID, XMPP stanza id, SMS status callback), for tests that count what peers received. */
export { noticeIdOf } from '../notifier';
