/**
 * Peers for testing code that sends and receives faxes: a scripted modem on a pty for the faults a real line
 * will not produce on demand, iaxmodem pairs with efax as a real line, and sample pages.
 */
export * from './scripted-modem';
export * from './scripted-caller';
export * from './fax-line-peer';
export * from './sample-pages';
