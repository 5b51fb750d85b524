import { registerDecorator, ValidationOptions } from 'class-validator';
import { Webhook } from 'standardwebhooks';

const SECRET_FORM = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/**
 * A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes (the specification's
 * bounds). Receivers pass the same string to their language's library, which decodes it the same way.
 */
export function isWebhookSecret(value: unknown): boolean {
  const base64 = typeof value === 'string' ? SECRET_FORM.exec(value)?.[1] : undefined;
  if (!base64 || base64.length % 4 !== 0) return false;
  const bytes = Buffer.from(base64, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export function IsWebhookSecret(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isWebhookSecret',
      target: object.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes`,
        ...options,
      },
      validator: { validate: isWebhookSecret },
    });
}

/**
 * The headers of one delivery per the Standard Webhooks specification: `webhook-id` (the task id,
 * the same on every attempt, so receivers drop duplicates), `webhook-timestamp` (Unix seconds of
 * this attempt, which receivers check against replays) and, with a secret, `webhook-signature`
 * (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`), written by the `standardwebhooks` package.
 */
export function webhookHeaders(
  id: string,
  body: Buffer,
  secret: string | undefined,
  at: Date = new Date(),
): Record<string, string> {
  const headers: Record<string, string> = {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
  };
  if (secret) headers['webhook-signature'] = new Webhook(secret).sign(id, at, body);
  return headers;
}
