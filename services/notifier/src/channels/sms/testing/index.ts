export { startTwilioEndpoint } from './twilio-endpoint';
export { TWILIO_SPEC_PATH, twilioContract, type TwilioContract } from './twilio-contract';
export {
  twilioSignature,
  type DeliveryOutcome,
  type LostAnswer,
  type TwilioAnswer,
  type TwilioCreateRequest,
  type TwilioEndpoint,
  type TwilioEndpointOptions,
  type TwilioListAnswer,
  type TwilioListRequest,
  type TwilioMessageRecord,
  type TwilioRequestRecord,
  type TwilioStatusCallback,
} from './twilio-api';
