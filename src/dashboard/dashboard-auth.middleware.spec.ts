import { ApiKeyService } from '../auth/api-key.service';
import { Principal } from '../auth/principal';
import { dashboardAuth } from './dashboard-auth.middleware';

function response() {
  const res = { statusCode: 200, headers: {} as Record<string, string>, body: undefined as unknown };
  return Object.assign(res, {
    setHeader: (name: string, value: string) => void (res.headers[name.toLowerCase()] = value),
    end: (body: string) => void (res.body = JSON.parse(body)),
  });
}

const keys: Record<string, Principal> = {
  'admin-secret': { keyId: 'a', name: 'admin', role: 'admin' },
  'client-secret': { keyId: 'c', name: 'client', role: 'client' },
};
const apiKeys = { verify: async (secret: string) => keys[secret] ?? null } as unknown as ApiKeyService;
const basic = (password: string) => `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}`;

async function run(authorization: string | undefined, servesApi = true) {
  const sut = dashboardAuth(apiKeys, servesApi);
  const res = response();
  const next = jest.fn();
  await sut({ headers: { authorization } } as any, res as any, next);
  return { res, next };
}

describe('dashboardAuth', () => {
  it('challenges a visitor without credentials so the browser asks them to sign in', async () => {
    const { res, next } = await run(undefined);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="Task service"/);
    expect(next).not.toHaveBeenCalled();
  });

  it('challenges an unknown key again', async () => {
    const { res, next } = await run(basic('wrong'));
    expect(res.statusCode).toBe(401);
    expect(next).not.toHaveBeenCalled();
  });

  it('refuses a client key with 403 and no challenge', async () => {
    const { res, next } = await run(basic('client-secret'));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(next).not.toHaveBeenCalled();
  });

  it('lets an admin key through, by Basic or Bearer', async () => {
    expect((await run(basic('admin-secret'))).next).toHaveBeenCalledTimes(1);
    expect((await run('Bearer admin-secret')).next).toHaveBeenCalledTimes(1);
  });

  it('answers 404 in a process that does not serve the api role', async () => {
    const { res, next } = await run(basic('admin-secret'), false);
    expect(res.statusCode).toBe(404);
    expect(next).not.toHaveBeenCalled();
  });
});
