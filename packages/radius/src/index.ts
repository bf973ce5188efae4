/**
 * A RADIUS server for authentication (RFC 2865) and accounting (RFC 2866): FreeRADIUS-format
 * dictionaries, packet checks (shared secret, Message-Authenticator, framing), typed attribute
 * readers, signed replies, and the UDP server that hands each proper request to its handler.
 * What the attributes mean is the caller's business.
 */
export { loadDictionary, radiusLibrary, type Dictionary } from './dictionary';
export {
  DroppedPacket,
  attribute,
  attributeValues,
  dateAttribute,
  decodeRequest,
  describeAttributes,
  encodeReply,
  enumAttribute,
  integerAttribute,
  named,
  textAttribute,
  vendorAttribute,
  vendorAttributes,
  type DecodedPacket,
  type ReplyAttribute,
  type RequestKind,
  type Vendor,
} from './packet';
export {
  RadiusServer,
  type RadiusClient,
  type RadiusClientDefinition,
  type RadiusHandlers,
  type RadiusLogger,
  type RadiusServerOptions,
  type RequestOutcome,
} from './server';
