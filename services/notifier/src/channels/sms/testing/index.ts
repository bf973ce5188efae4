export { startTwilioEndpoint } from './twilio-endpoint';
export { TWILIO_SPEC_PATH, twilioContract, type TwilioContract } from './twilio-contract';
export { twilioSignature } from './twilio-api';
export type * from './twilio-api';
