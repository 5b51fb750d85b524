/**
 * A bare Express 5 or Fastify 5 server with the routes the HTTP front bench loads, answering the
 * same JSON shapes as the service (a task view, `{ status: 'ok' }`) without any work behind them:
 * the framework's ceiling on this machine. Prints its port on stdout.
 *
 * Usage: node -r @swc-node/register bench/bare-http.ts express|fastify
 */
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';

const view = (id: string, name = 'tasks.system.noop', args: unknown = {}) => ({
  id,
  name,
  state: 'PENDING',
  args,
  queue: 'default',
  progress: null,
  result: null,
  error: null,
  attempts: 0,
  maxAttempts: 3,
  priority: 0,
  requestId: randomUUID(),
  createdAt: new Date().toISOString(),
  startedAt: null,
  finishedAt: null,
  links: { self: `/tasks/${id}`, events: `/tasks/${id}/events` },
});

async function main(kind: string): Promise<void> {
  if (kind === 'express') {
    const express = (await import('express')).default;
    const app = express();
    app.use(express.json());
    app.post('/tasks', (req, res) => {
      const id = randomUUID();
      const body = req.body as { name?: string; args?: unknown };
      res
        .status(202)
        .location(`/tasks/${id}`)
        .json(view(id, body.name, body.args));
    });
    app.get('/tasks/:id', (req, res) => void res.json(view(req.params.id)));
    app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
    const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
    return;
  }
  const fastify = (await import('fastify')).default();
  fastify.post('/tasks', async (request, reply) => {
    const id = randomUUID();
    const body = request.body as { name?: string; args?: unknown };
    void reply.status(202).header('Location', `/tasks/${id}`);
    return view(id, body.name, body.args);
  });
  fastify.get<{ Params: { id: string } }>('/tasks/:id', async (request) => view(request.params.id));
  fastify.get('/health/live', async () => ({ status: 'ok' }));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  console.log((fastify.server.address() as AddressInfo).port);
}

void main(process.argv[2] ?? 'fastify');
