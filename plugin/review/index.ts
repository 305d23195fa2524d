// Facade of the review module: the review API router, the review page router and their inputs.
// The plugin mounts both in register_middlewares (after Verdaccio's auth middleware).
export { API_PREFIX, createReviewRouter, reviewItem, type ReviewAlerts, type ReviewLogger, type ReviewRouterDeps } from './api';
export { isReviewer, remoteUserOf, type ReviewerConfig, type ReviewUser, type WebTokenAuth } from './auth';
export { createReviewPageRouter, pageCsp, UI_PATH } from './page';
export { checkPackageName, checkReason, checkReviewBody, checkVersion, MAX_REASON_LENGTH, parseReviewPath, parseSpec } from './validate';
