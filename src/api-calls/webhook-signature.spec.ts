import { createHmac } from 'node:crypto';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature';

describe('webhook signature', () => {
  const secret = 'whsec_0123456789abcdef';
  const body = '{"id":"t1","event":"order.paid","payload":{"n":1}}';

  it('is sha256= and the hex HMAC-SHA256 of the raw body', () => {
    const expected = createHmac('sha256', secret).update(body).digest('hex');
    expect(signWebhookBody(secret, body)).toBe(`sha256=${expected}`);
    expect(signWebhookBody(secret, Buffer.from(body))).toBe(`sha256=${expected}`);
  });

  it('verifies the exact body and secret only', () => {
    const header = signWebhookBody(secret, body);
    expect(verifyWebhookSignature(secret, body, header)).toBe(true);
    expect(verifyWebhookSignature(secret, body.replace('1', '2'), header)).toBe(false);
    expect(verifyWebhookSignature('another-secret-value', body, header)).toBe(false);
    expect(verifyWebhookSignature(secret, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(secret, body, 'sha256=00')).toBe(false);
  });
});
