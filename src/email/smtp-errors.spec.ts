import { classifySendError, describeFailure } from './smtp-errors';

describe('classifySendError', () => {
  it('treats 5xx replies as permanent and keeps the reply', () => {
    const sut = classifySendError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' });
    expect(sut).toMatchObject({ permanent: true, connection: false, responseCode: 550 });
    expect(describeFailure(sut)).toBe('SMTP 550: 550 5.1.1 No such user');
  });

  it('treats 4xx replies as transient', () => {
    expect(classifySendError({ code: 'EMESSAGE', responseCode: 451, response: '451 Try again later' })).toMatchObject({
      permanent: false,
      connection: false,
    });
    expect(classifySendError({ code: 'EMESSAGE', responseCode: 421, response: '421 closing' })).toMatchObject({
      permanent: false,
      connection: true,
    });
  });

  it('treats connection failures and timeouts as transient connection errors', () => {
    for (const code of ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNREFUSED']) {
      expect(classifySendError({ code, message: 'connect ECONNREFUSED 127.0.0.1:1' })).toMatchObject({
        permanent: false,
        connection: true,
      });
    }
  });

  it('treats envelope errors without a reply and configuration errors as permanent', () => {
    expect(classifySendError({ code: 'EENVELOPE', message: 'No recipients defined' }).permanent).toBe(true);
    expect(classifySendError({ code: 'ENOAUTH', message: 'Missing credentials' }).permanent).toBe(true);
  });

  it('retries what it does not recognise', () => {
    expect(classifySendError(new Error('something odd')).permanent).toBe(false);
  });
});
