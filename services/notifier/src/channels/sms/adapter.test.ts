import { answerMayBeLost, classifyTwilioError } from './adapter';

/** How the SMS adapter reads a failed Twilio request: worth a retry or not, and whether Twilio may have stored the message. */
describe('SMS adapter errors', () => {
  it('treats an unreachable API as transient', () => {
    expect(classifyTwilioError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toMatchObject({
      transient: true,
      providerCode: 'ECONNREFUSED',
    });
  });

  it('tells a lost answer from a request that never left and from an HTTP answer', () => {
    expect(answerMayBeLost(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(answerMayBeLost(Object.assign(new Error('timeout of 400ms exceeded'), { code: 'ECONNABORTED' }))).toBe(true);
    expect(answerMayBeLost(new Error('Twilio answered without a message SID'))).toBe(true);
    expect(answerMayBeLost(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(answerMayBeLost(Object.assign(new Error('getaddrinfo ENOTFOUND api.twilio.com'), { code: 'ENOTFOUND' }))).toBe(false);
    expect(answerMayBeLost(Object.assign(new Error('Internal Server Error'), { status: 500, code: 20500 }))).toBe(false);
    expect(classifyTwilioError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({
      transient: true,
      providerCode: 'ECONNRESET',
      message: "Twilio's answer lost (ECONNRESET): socket hang up",
    });
  });
});
