// Facade of the review module: the review API router, the review page router and their inputs.
//
// Wiring (plugin/index.ts), in register_middlewares(app, auth, storage), which Verdaccio calls after
// its own `auth.apiJWTmiddleware()` (so req.remote_user is set from npm tokens / basic auth):
//
//   const reviewers = parseReviewers(block.reviewers, process.env.CAPGATE_REVIEWERS)  // issues -> ConfigError
//   const targets = parseWebhookTargets(block.alerts?.targets)                         // alerts/config.ts
//   const alerts = new AlertDispatcher({ store, targets, publicUrl, logger })          // alerts/dispatcher.ts
//   alerts.start()                                                                     // close(): await alerts.stop()
//   mountReview(app, { store, reviewers, auth, alerts, logger,
//                      onDecisionChanged: (name, version) => gate.invalidate(name, version) })
//   // and where the gate stores a held/flagged decision: void alerts.notify('held' | 'flagged', record)
export { API_PREFIX, createReviewRouter, reviewItem, type ReviewAlerts, type ReviewLogger, type ReviewRouterDeps } from './api';
export { isReviewer, remoteUserOf, type ReviewerConfig, type ReviewUser, type WebTokenAuth } from './auth';
export { createReviewPageRouter, pageCsp, UI_PATH } from './page';
export { checkPackageName, checkReason, checkReviewBody, checkVersion, MAX_REASON_LENGTH, parseReviewPath, parseSpec } from './validate';
export { parseReviewers } from './config';
export { mountReview } from './mount';
