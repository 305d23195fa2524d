// Owns mounting the review API and the review page on Verdaccio's app, in one call for the plugin.
import type { Application } from 'express';
import { createReviewRouter, type ReviewRouterDeps } from './api';
import { createReviewPageRouter } from './page';

/**
 * Mounts `GET/POST /-/capgate/v1/reviews...`, `GET /-/capgate/v1/audit` and `GET /-/capgate/ui/`.
 * Call from register_middlewares (Verdaccio has run its auth middleware by then) with Verdaccio's
 * `auth` in deps so the page's web-login token is accepted.
 */
export function mountReview(app: Pick<Application, 'use'>, deps: ReviewRouterDeps): void {
  app.use(createReviewRouter(deps));
  app.use(createReviewPageRouter());
}
