import { registerSignIn, type AuthSettings, type Logger, type SignInView, type createHttpServer } from '@faxnotify/kit';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { LayoutData, PageName } from './render';
import type { PageContext } from './routes';

/** Where sign-in leads when it is not sending the viewer back to a page of this site: the Sent folder. */
export const SENT_FOLDER = '/faxes';

/** The sign-in settings of the pages: the `auth` section and this service's public base URL. */
export interface PagesSignInOptions {
  settings: AuthSettings;
  publicUrl: () => string;
  /** Run before /auth/login and /auth/callback (a limit on sign-in attempts). */
  attemptGuard?: preHandlerHookHandler[];
}

/** The pages' own machinery the sign-in pages use (routes.ts). */
interface SignInPageHelpers {
  contextOf: (request: FastifyRequest, reply: FastifyReply) => Promise<PageContext>;
  send: (
    reply: FastifyReply,
    request: FastifyRequest,
    context: PageContext,
    page: PageName,
    data: Record<string, unknown>,
    layout: Partial<LayoutData> & { title: string },
    code?: number,
  ) => FastifyReply;
  logger?: Logger;
}

/** OpenID Connect off: the `auth` settings with no issuer. */
const SIGN_IN_OFF = (settings?: AuthSettings): AuthSettings => ({
  jwtSecret: settings?.jwtSecret ?? '',
  allowDevelopmentSecret: false,
  audience: settings?.audience ?? 'faxnotify',
  sessionHours: settings?.sessionHours ?? 8,
  oidc: { issuer: '', clientId: '', clientSecret: '', scopes: 'openid', userClaim: 'sub' },
});

export interface PagesSignIn {
  /** A signed-out visitor of a page: to the identity provider and back to this page, or (sign-in not set up) a page saying how to use the API. */
  toSignIn: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  /** Where a visitor signs in, going on to `next`. */
  signInHref: (next: string) => string;
  /** The sign-in page saying a form had expired (403), with a way to sign in again. */
  formExpired: (request: FastifyRequest, reply: FastifyReply, next: string) => Promise<FastifyReply>;
}

/**
 * The tracker's sign-in pages over the kit's OpenID Connect routes (`/auth/login`,
 * `/auth/callback`, `/auth/logout`, `/auth/signed-out`): each result of a sign-in, the signed-out
 * page, and "sign-in is not set up", in the pages' look and the visitor's language.
 */
export function registerPagesSignIn(
  app: ReturnType<typeof createHttpServer>,
  auth: { secret: string; audience?: string },
  options: PagesSignInOptions | undefined,
  helpers: SignInPageHelpers,
): PagesSignIn {
  const { contextOf, send } = helpers;
  const settings = options?.settings.oidc.issuer ? options.settings : SIGN_IN_OFF(options?.settings);
  const publicUrl = options?.publicUrl ?? (() => '');
  // The API's address as this visitor reaches it (the public base URL when there is one).
  const apiExample = (request: FastifyRequest) => `${publicUrl() || `${request.protocol}://${request.host}`}/v1/faxes`;

  const page = async (request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, status: number) => {
    const context = await contextOf(request, reply);
    return send(reply, request, context, 'sign-in', { ...data, apiExample: apiExample(request) }, { title: context.t.signInTitle }, status);
  };

  const render = async (request: FastifyRequest, reply: FastifyReply, view: SignInView, status: number) => {
    const { t } = await contextOf(request, reply);
    if (view.kind === 'signed-out')
      return page(
        request,
        reply,
        settings.oidc.issuer ? { notice: t.signedOut, signInHref: view.signInHref } : { notice: t.signedOut, notConfigured: true },
        status,
      );
    switch (view.problem) {
      case 'not-configured':
        return page(request, reply, { notConfigured: true }, status);
      case 'form-expired':
        return page(request, reply, { problem: t.formExpired, signInHref: view.signInHref }, status);
      default:
        return page(request, reply, { problem: t.signInProblems[view.problem], signInHref: view.signInHref }, status);
    }
  };

  const signIn = registerSignIn(app, {
    auth,
    settings,
    publicUrl,
    landing: SENT_FOLDER,
    render,
    logger: (helpers.logger ?? app.log) as Logger,
    attemptGuard: options?.attemptGuard,
  });

  return {
    signInHref: signIn.loginHref,
    toSignIn: async (request, reply) => {
      if (!signIn.enabled) return page(request, reply, { notConfigured: true }, 401);
      return reply.code(303).header('cache-control', 'no-store').redirect(signIn.loginHref(request.url), 303);
    },
    formExpired: async (request, reply, next) => {
      const { t } = await contextOf(request, reply);
      return page(request, reply, { problem: t.formExpired, signInHref: signIn.loginHref(next) }, 403);
    },
  };
}
