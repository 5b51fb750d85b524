/** Size caps of the e-mail API, checked at submit (400) and again in the worker. */
export const EmailLimits = {
  /** to + cc + bcc of one message. */
  RECIPIENTS_PER_MESSAGE: 50,
  /** Recipients of one notification (after de-duplication they become deliveries). */
  NOTIFICATION_RECIPIENTS: 20_000,
  ADDRESS_LENGTH: 254,
  SUBJECT_LENGTH: 300,
  /** `text` and `html` each, in characters. */
  BODY_CHARS: 1_000_000,
  HEADERS: 20,
  HEADER_VALUE_LENGTH: 1000,
  ATTACHMENTS: 10,
  /**
   * All inline attachments of one message together, decoded. 3 MB is 4 MB of base64, so a
   * request at the cap still fits the service's 5 MB JSON body limit (larger files: file ids).
   */
  ATTACHMENT_BYTES: 3 * 1024 * 1024,
  FILENAME_LENGTH: 200,
  CONTEXT_KEYS: 30,
  CONTEXT_VALUE_LENGTH: 10_000,
} as const;
