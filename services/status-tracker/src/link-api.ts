import { requireUser, userOf, type createHttpServer } from '@faxnotify/kit';
import type { AuthOptions } from './auth';
import type { LinkTokens } from './links';

type HttpServer = ReturnType<typeof createHttpServer>;

/** What "sign out all links" answers: how many tokens stopped working, and from when. */
export interface LinksRevokedView {
  revoked: number;
  revokedBefore: string;
}

/**
 * `POST /v1/links/revoke` (bearer token only): the caller's "sign out all links". Every link token
 * in the notices sent to them so far stops opening its fax; the Sent folder page has the same as a button.
 */
export function registerLinkApi(app: HttpServer, options: { auth: AuthOptions; tokens: LinkTokens }): void {
  void app.register(async (scope) => {
    scope.addHook('preHandler', requireUser(options.auth));
    scope.post('/v1/links/revoke', async (request) => {
      const { revoked, revokedAt } = await options.tokens.revokeAll(userOf(request));
      return { revoked, revokedBefore: revokedAt } satisfies LinksRevokedView;
    });
  });
}

/** `POST /v1/links/revoke` in the OpenAPI document (openapi.ts). */
export const linkPaths = () => ({
  '/v1/links/revoke': {
    post: {
      summary:
        "Sign out all links: every link token in the notices sent to the caller so far stops opening its fax (links minted later work). A notice's link (`/l/{token}`) otherwise opens its one fax in a browser without a sign-in, until links.tokenDays pass.",
      responses: {
        200: {
          description: 'The links are signed out.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['revoked', 'revokedBefore'],
                properties: {
                  revoked: { type: 'integer', minimum: 0, description: 'How many links stopped working.' },
                  revokedBefore: { type: 'string', format: 'date-time', description: 'Links issued until this time no longer work.' },
                },
              },
            },
          },
        },
        401: {
          description: 'No bearer token, or an expired or wrongly signed one (the session cookie alone is not enough).',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  },
});
