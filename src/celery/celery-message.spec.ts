import { decodeCeleryMessage, reviveKombu } from './celery-message';

const ID = '5f0c7a57-3b0e-4a5e-9f5e-6d3c1f0b2a11';

function envelope(headers: object, body: unknown, extra: object = {}): string {
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers,
    properties: {
      correlation_id: ID,
      body_encoding: 'base64',
      delivery_tag: 'tag-1',
      delivery_info: { exchange: 'file_tasks', routing_key: 'file_tasks' },
      priority: 3,
    },
    ...extra,
  });
}

describe('decodeCeleryMessage', () => {
  it('reads protocol 2: meta from the headers, [args, kwargs, embed] from the base64 body', () => {
    const sut = decodeCeleryMessage(
      envelope(
        {
          lang: 'py',
          task: 'tasks.file.process_file',
          id: ID,
          eta: '2026-12-06T18:00:05.000000+08:00',
          expires: null,
          retries: 2,
          timelimit: [30, 20],
          root_id: ID,
          parent_id: null,
        },
        [['f-1'], { extra: true }, { callbacks: null, errbacks: null, chain: null, chord: null }],
      ),
    );
    expect(sut).toMatchObject({
      id: ID,
      task: 'tasks.file.process_file',
      args: ['f-1'],
      kwargs: { extra: true },
      retries: 2,
      timelimit: [30, 20],
      rootId: ID,
      parentId: null,
      workflow: [],
      deliveryTag: 'tag-1',
      exchange: 'file_tasks',
      routingKey: 'file_tasks',
      priority: 3,
    });
    expect(sut.eta?.toISOString()).toBe('2026-12-06T10:00:05.000Z');
  });

  it('reads protocol 1: everything in the body, naive times meaning UTC', () => {
    const sut = decodeCeleryMessage(
      envelope(
        {},
        { task: 'tasks.system.noop', id: ID, args: [1], kwargs: {}, eta: '2026-12-06T10:00:00', callbacks: [{}] },
      ),
    );
    expect(sut).toMatchObject({ id: ID, task: 'tasks.system.noop', args: [1], workflow: ['callbacks'] });
    expect(sut.eta?.toISOString()).toBe('2026-12-06T10:00:00.000Z');
  });

  it('names canvas parts in the embed so the ingress can refuse them', () => {
    const sut = decodeCeleryMessage(
      envelope({ task: 't', id: ID }, [[], {}, { chain: [{ task: 'next' }], chord: null, callbacks: [] }]),
    );
    expect(sut.workflow).toEqual(['chain']);
  });

  it('refuses other content types and broken bodies with the id, so the caller still gets a FAILURE', () => {
    expect(() =>
      decodeCeleryMessage(
        envelope({ task: 't', id: ID }, [[], {}, {}], { 'content-type': 'application/x-python-serialize' }),
      ),
    ).toThrow(expect.objectContaining({ id: ID, excType: 'ContentDisallowed' }));
    expect(() => decodeCeleryMessage(envelope({ task: 't', id: ID }, { not: 'a list' }))).toThrow(
      expect.objectContaining({ id: ID, task: 't' }),
    );
    expect(() => decodeCeleryMessage('not json')).toThrow('not JSON');
  });

  it('turns kombu __type__ values into JSON payload values', () => {
    const body = JSON.stringify([
      {
        when: { __type__: 'datetime', __value__: '2026-12-06T10:00:00+08:00' },
        amount: { __type__: 'decimal', __value__: '12.50' },
        id: { __type__: 'uuid', __value__: { hex: '5f0c7a573b0e4a5e9f5e6d3c1f0b2a11' } },
        raw: { __type__: 'bytes', __value__: Buffer.from('héllo').toString('base64') },
        day: { __type__: 'date', __value__: '2026-12-06' },
      },
    ]);
    expect(JSON.parse(body, reviveKombu)).toEqual([
      { when: '2026-12-06T10:00:00+08:00', amount: 12.5, id: ID, raw: 'héllo', day: '2026-12-06' },
    ]);
  });
});
