// Facade of the alerts module: webhook config, events, signing, payloads and the outbox dispatcher.
export { ALERT_EVENT_TYPES, parseWebhookTargets, targetsFor, type WebhookTarget } from './config';
export { AlertError, ALERT_ERROR_CODES, isAlertError, type AlertErrorCode } from './errors';
export { alertEventId, createAlertEvent, MAX_EVIDENCE_PER_ID } from './event';
export { escapeSlack, renderJsonBody, renderSlackBody } from './payload';
export {
  assertValidSignature,
  DEFAULT_TOLERANCE_SECONDS,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
  type SignatureCheck,
} from './sign';
export { sendWebhook, type WebhookRequest, type WebhookResponse, type WebhookSender } from './http-send';
export { AlertDispatcher, type AlertDispatcherOptions, type AlertLogger, type DeliveryResult } from './dispatcher';
