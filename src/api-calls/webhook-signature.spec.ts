import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { isWebhookSecret, webhookHeaders } from './webhook-signature';

describe('webhook headers (Standard Webhooks)', () => {
  const key = Buffer.alloc(32, 7);
  const secret = `whsec_${key.toString('base64')}`;
  const body = Buffer.from('{"id":"t1","event":"order.paid","payload":{"n":1}}');
  const at = new Date('2026-12-06T08:00:00.500Z');

  it('signs id.timestamp.body with HMAC-SHA256 under the base64-decoded secret, as the specification writes it', () => {
    const headers = webhookHeaders('t1', body, secret, at);
    expect(headers['webhook-id']).toBe('t1');
    expect(headers['webhook-timestamp']).toBe('1796544000');
    const expected = createHmac('sha256', key).update(`t1.1796544000.${body.toString()}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('verifies with the standardwebhooks library a receiver uses, for this body and secret only', () => {
    const headers = webhookHeaders('t1', body, secret);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 't1', event: 'order.paid', payload: { n: 1 } });
    expect(() => new Webhook(secret).verify(Buffer.from(body.toString().replace('1', '2')), headers)).toThrow(
      /No matching signature/,
    );
    const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/No matching signature/);
  });

  it('sends id and timestamp but no signature without a secret', () => {
    expect(Object.keys(webhookHeaders('t1', body, undefined))).toEqual(['webhook-id', 'webhook-timestamp']);
  });

  it.each([
    [secret, true],
    [`whsec_${Buffer.alloc(24).toString('base64')}`, true],
    [`whsec_${Buffer.alloc(64).toString('base64')}`, true],
    [`whsec_${Buffer.alloc(25).toString('base64')}`, true],
    [`whsec_${Buffer.alloc(23).toString('base64')}`, false],
    [`whsec_${Buffer.alloc(65).toString('base64')}`, false],
    [key.toString('base64'), false],
    ['whsec_e2e_0123456789', false],
    ['whsec_abc', false],
    [undefined, false],
  ])('accepts %s as a secret: %s', (candidate, valid) => {
    expect(isWebhookSecret(candidate)).toBe(valid);
  });
});
