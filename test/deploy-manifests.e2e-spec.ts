import 'reflect-metadata';
import { PATH_METADATA } from '@nestjs/common/constants';
import { getMetadataStorage } from 'class-validator';
import { load, loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_SECTIONS } from '../src/config/config-sections';
import { Environment } from '../src/config/environment';
import { HealthController } from '../src/health/health.controller';
import { HealthEnvironment } from '../src/health/health.environment';
import { LIVENESS_PATH, READINESS_PATH } from '../src/health/health.routes';
import { MetricsController } from '../src/metrics/metrics.controller';
import { METRICS_PATH } from '../src/metrics/metrics.routes';
import { KNOWN_QUEUES } from '../src/tasks/queue-names';

const ROOT = resolve(__dirname, '..');
const K8S = join(ROOT, 'deploy/k8s');

/** Every variable some env class of the app declares: a manifest must not set anything else. */
const KNOWN_VARIABLES = new Set(
  [Environment, ...CONFIG_SECTIONS].flatMap((cls) =>
    getMetadataStorage()
      .getTargetValidationMetadatas(cls, '', true, false)
      .map((m) => m.propertyName),
  ),
);
const DEFAULT_PORT = new Environment().PORT;
const DEFAULT_GRACE_MS = new Environment().SHUTDOWN_GRACE_MS;

type Manifest = {
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

const manifests: { file: string; doc: Manifest }[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    (loadAll(readFileSync(join(K8S, file), 'utf8')) as Manifest[]).filter(Boolean).map((doc) => ({ file, doc })),
  );
const byKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const configMaps = new Map(byKind('ConfigMap').map((d) => [d.metadata.name, d.data ?? {}]));
const secrets = new Map(byKind('Secret').map((d) => [d.metadata.name, d.stringData ?? d.data ?? {}]));
const deployments = byKind('Deployment');

/** The environment a container really gets: envFrom sources, then its own env entries. */
function effectiveEnv(container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name ?? source.secretRef?.name;
    const values = source.configMapRef ? configMaps.get(name) : secrets.get(name);
    if (!values) throw new Error(`${container.name}: envFrom refers to ${name}, which no manifest defines`);
    Object.assign(env, values);
  }
  for (const entry of container.env ?? []) env[entry.name] = String(entry.value);
  return env;
}

/** YAML merge keys (`<<: *anchor`), which Docker Compose resolves and js-yaml 5 leaves as they are. */
function resolveMerges(value: any): any {
  if (Array.isArray(value)) return value.map(resolveMerges);
  if (!value || typeof value !== 'object') return value;
  const { '<<': base, ...rest } = value;
  const merged = { ...(base ? resolveMerges(base) : {}), ...rest };
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, resolveMerges(v)]));
}

describe('Deployment files match the app', () => {
  it('the probe and metrics constants are the routes the controllers serve', () => {
    const healthRoot = Reflect.getMetadata(PATH_METADATA, HealthController);
    expect(`/${healthRoot}/${Reflect.getMetadata(PATH_METADATA, HealthController.prototype.live)}`).toBe(LIVENESS_PATH);
    expect(`/${healthRoot}/${Reflect.getMetadata(PATH_METADATA, HealthController.prototype.ready)}`).toBe(
      READINESS_PATH,
    );
    expect(`/${Reflect.getMetadata(PATH_METADATA, MetricsController)}`).toBe(METRICS_PATH);
  });

  it('has an api Deployment and worker Deployments that cover every queue exactly once', () => {
    const roles = deployments.map((d) => effectiveEnv(d.spec.template.spec.containers[0]).ROLE);
    expect(roles.filter((r) => r === 'api')).toHaveLength(1);
    const consumed = deployments
      .map((d) => effectiveEnv(d.spec.template.spec.containers[0]))
      .filter((env) => env.ROLE === 'worker')
      .flatMap((env) => env.WORKER_QUEUES.split(','));
    expect([...consumed].sort()).toEqual([...KNOWN_QUEUES].sort());
  });

  describe.each(deployments.map((d) => [d.metadata.name, d] as const))('%s', (_, deployment) => {
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = effectiveEnv(container);
    const port = Number(env.PORT ?? DEFAULT_PORT);
    const portOf = (ref: string | number) =>
      typeof ref === 'number' ? ref : container.ports.find((p: any) => p.name === ref)?.containerPort;

    it('probes the app on its real routes and port', () => {
      expect(container.startupProbe.httpGet.path).toBe(LIVENESS_PATH);
      expect(container.livenessProbe.httpGet.path).toBe(LIVENESS_PATH);
      expect(container.readinessProbe.httpGet.path).toBe(READINESS_PATH);
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe])
        expect(portOf(probe.httpGet.port)).toBe(port);
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      expect(annotations['prometheus.io/path']).toBe(METRICS_PATH);
      expect(Number(annotations['prometheus.io/port'])).toBe(port);
    });

    it('gives running work its grace period before the kill, and not much more', () => {
      const grace = Number(env.SHUTDOWN_GRACE_MS ?? DEFAULT_GRACE_MS);
      const readinessDelay =
        env.ROLE === 'api'
          ? Number(env.SHUTDOWN_READINESS_DELAY_MS ?? new HealthEnvironment().SHUTDOWN_READINESS_DELAY_MS)
          : 0;
      const needed = grace + readinessDelay;
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(needed);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeLessThanOrEqual(needed + 30_000);
    });

    it('sets only variables the app reads, with values it accepts', () => {
      expect(Object.keys(env).filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
      expect(['api', 'worker', 'all']).toContain(env.ROLE);
      if (env.ROLE === 'worker') expect(env.WORKER_QUEUES.split(',').every((q) => KNOWN_QUEUES.includes(q))).toBe(true);
      for (const mount of container.volumeMounts ?? [])
        if (mount.name === 'data') expect(mount.mountPath).toBe(env.DATA_DIR);
    });
  });

  it('routes the Service to the api pods by port name', () => {
    const [service] = byKind('Service');
    const api = deployments.find((d) => effectiveEnv(d.spec.template.spec.containers[0]).ROLE === 'api')!;
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
    expect(api.spec.template.spec.containers[0].ports.map((p: any) => p.name)).toContain(
      service.spec.ports[0].targetPort,
    );
  });

  it('docker-compose runs Redis on 6380 with AOF and noeviction, PostgreSQL, an SMTP catcher, the api and a worker', () => {
    const compose = resolveMerges(load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')));
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'mailpit', 'postgres', 'redis', 'worker']);
    const redis = compose.services.redis.command.join(' ');
    expect(redis).toMatch(/--port 6380/);
    expect(redis).toMatch(/--appendonly yes/);
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
    for (const name of ['api', 'worker']) {
      const service = compose.services[name];
      expect(Object.keys(service.environment).filter((v) => !KNOWN_VARIABLES.has(v))).toEqual([]);
      expect(service.environment.REDIS_URL).toBe('redis://redis:6380/0');
      expect(service.environment.SMTP_URL).toMatch(/^smtp:\/\/mailpit:/);
      expect(service.command).toEqual(['node', 'dist/main.js', '--role', name]);
      expect(service.healthcheck.test.join(' ')).toContain(name === 'api' ? READINESS_PATH : LIVENESS_PATH);
      expect(Number.parseInt(service.stop_grace_period, 10) * 1000).toBeGreaterThan(
        Number(service.environment.SHUTDOWN_GRACE_MS),
      );
    }
  });

  it('the Dockerfile is multi-stage, runs as a non-root user and exposes the app port', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${DEFAULT_PORT}$`, 'm'));
    expect(dockerfile).toContain(LIVENESS_PATH);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });
});
