import RequestClient from 'twilio/lib/base/RequestClient';

/**
 * The `twilio` package's own HTTP client, sending to a Twilio-compatible endpoint instead of
 * Twilio's hosts (the package has no base-URL option; `httpClient` is its documented extension
 * point). Used when `twilio.baseUrl` is set: tests and the demo; production talks to Twilio.
 */
export class BaseUrlRequestClient extends RequestClient {
  constructor(
    private readonly baseUrl: string,
    options?: RequestClient.RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    if (uri.hostname === 'twilio.com' || uri.hostname.endsWith('.twilio.com')) {
      const base = new URL(this.baseUrl);
      uri.protocol = base.protocol;
      uri.host = base.host;
      uri.pathname = `${base.pathname.replace(/\/$/, '')}${uri.pathname}`;
    }
    return super.request({ ...opts, uri: uri.href });
  }
}
