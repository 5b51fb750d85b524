import 'reflect-metadata';
import { PATH_METADATA } from '@nestjs/common/constants';
import { getMetadataStorage } from 'class-validator';
import { load, loadAll } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_SECTIONS } from '../src/config/config-sections';
import { Environment } from '../src/config/environment';
import { HealthController } from '../src/health/health.controller';
import { HealthEnvironment } from '../src/health/health.environment';
import { LIVENESS_PATH, READINESS_PATH } from '../src/health/health.routes';
import { MetricsController } from '../src/metrics/metrics.controller';
import { METRICS_PATH } from '../src/metrics/metrics.routes';
import { KNOWN_QUEUES } from '../src/tasks/queue-names';
import { K8sObject, parseEnvFile, renderKustomization } from './support/kustomize';

const ROOT = resolve(__dirname, '..');
const K8S = join(ROOT, 'deploy/k8s');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/**
 * Resident memory measured on this service (MiB): an idle worker of a production install (VmRSS
 * 182 MiB for a file worker, 187 MiB for an email worker, 184 MiB for an idle api), and the api under load.
 */
const MEASURED_RSS_MIB = { worker: 187, api: 400 };

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

const rendered = renderKustomization(K8S);
const yamlDocs = (file: string) => (loadAll(readFileSync(join(K8S, file), 'utf8')) as K8sObject[]).filter(Boolean);
const secrets = new Map(yamlDocs('secret.example.yaml').map((d) => [d.metadata.name, d.stringData ?? d.data ?? {}]));
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const configMaps = new Map(byKind(rendered, 'ConfigMap').map((d) => [d.metadata.name, d.data ?? {}]));
const deployments = byKind(rendered, 'Deployment');
const monitoringKustomization = load(readFileSync(join(K8S, 'monitoring/kustomization.yaml'), 'utf8')) as any;
const monitoring = (monitoringKustomization.resources as string[]).flatMap((file) => yamlDocs(`monitoring/${file}`));

/** The environment a container really gets: envFrom sources, then its own env entries. */
function effectiveEnv(container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name ?? source.secretRef?.name;
    const values = source.configMapRef ? configMaps.get(name) : secrets.get(name);
    if (!values) throw new Error(`${container.name}: envFrom refers to ${name}, which no manifest defines`);
    Object.assign(env, values);
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref && !secrets.get(ref.name)?.[ref.key])
      throw new Error(`${container.name}: ${entry.name} refers to a missing Secret key`);
    env[entry.name] = ref ? secrets.get(ref.name)![ref.key] : String(entry.value);
  }
  return env;
}

const mebibytes = (quantity: string) => {
  const [, value, unit] = /^(\d+)(Mi|Gi)$/.exec(quantity)!;
  return Number(value) * (unit === 'Gi' ? 1024 : 1);
};
const oldSpaceMib = (container: any) => Number(/--max-old-space-size=(\d+)/.exec(container.args.join(' '))?.[1]);

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

  describe.each(deployments.map((d) => [d.metadata.name, d] as const))('%s', (name, deployment) => {
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const containers = [...(pod.initContainers ?? []), ...pod.containers];
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
      // Scrape annotations would only collect 401s (/metrics needs its token): the PodMonitor scrapes.
      expect(Object.keys(deployment.spec.template.metadata.annotations ?? {})).toEqual([]);
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
      for (const c of containers)
        expect(Object.keys(effectiveEnv(c)).filter((variable) => !KNOWN_VARIABLES.has(variable))).toEqual([]);
      expect(['api', 'worker', 'all']).toContain(env.ROLE);
      if (env.ROLE === 'worker') expect(env.WORKER_QUEUES.split(',').every((q) => KNOWN_QUEUES.includes(q))).toBe(true);
      for (const mount of container.volumeMounts ?? [])
        if (mount.name === 'data') expect(mount.mountPath).toBe(env.DATA_DIR);
    });

    it('runs the migrations in an initContainer, before the app', () => {
      const migrate = (pod.initContainers ?? []).find((c: any) => c.args.includes('dist/cli.js'));
      expect(migrate?.args.slice(-2)).toEqual(['dist/cli.js', 'migrate']);
      expect(migrate.image).toBe(container.image);
      expect(migrate.envFrom).toEqual(container.envFrom.filter((s: any) => s.configMapRef || s.secretRef));
    });

    it('is hardened: no service account token, no privileges, a read-only root, seccomp', () => {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        // What the service writes (uploads and exports, scratch files) is mounted writable.
        const writable = new Map((c.volumeMounts ?? []).map((m: any) => [m.mountPath, m.name]));
        expect(writable.get('/tmp')).toBeDefined();
        for (const [, volume] of writable) {
          const source = pod.volumes.find((v: any) => v.name === volume);
          expect(source.emptyDir ?? source.persistentVolumeClaim).toBeDefined();
        }
      }
      expect(container.volumeMounts.map((m: any) => m.mountPath)).toContain(env.DATA_DIR);
    });

    it('caps the heap below the memory limit, the health check below the heap, and requests the measured RSS', () => {
      for (const c of containers) {
        const limit = mebibytes(c.resources.limits.memory);
        const heap = oldSpaceMib(c);
        // Room for code, buffers and native memory next to the heap: at most 75% of the limit.
        expect(heap).toBeLessThanOrEqual(limit * 0.75);
        expect(mebibytes(c.resources.requests.memory)).toBeLessThanOrEqual(limit);
      }
      expect(Number(env.HEALTH_MAX_HEAP_MB)).toBeLessThan(oldSpaceMib(container));
      const measured = env.ROLE === 'api' ? MEASURED_RSS_MIB.api : MEASURED_RSS_MIB.worker;
      expect(mebibytes(container.resources.requests.memory)).toBeGreaterThanOrEqual(measured);
      expect(mebibytes(container.resources.limits.memory)).toBeGreaterThan(measured * 2);
    });

    it('runs an image pinned to the release, never latest', () => {
      for (const c of containers) expect(c.image).toMatch(new RegExp(`^[^:]+:${VERSION.replace(/\./g, '\\.')}$`));
    });

    it('spreads its pods across nodes and has a PodDisruptionBudget', () => {
      const labels = deployment.spec.template.metadata.labels;
      expect(pod.topologySpreadConstraints).toContainEqual(
        expect.objectContaining({
          topologyKey: 'kubernetes.io/hostname',
          maxSkew: 1,
          labelSelector: { matchLabels: labels },
        }),
      );
      const budgets = byKind(rendered, 'PodDisruptionBudget').filter((b) =>
        Object.entries(b.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
      );
      expect(budgets).toHaveLength(1);
      expect(budgets[0].spec.maxUnavailable).toBe(1);
    });

    it('leaves the replica count to KEDA when a ScaledObject scales it', () => {
      const scaled = byKind(monitoring, 'ScaledObject').filter((s) => s.spec.scaleTargetRef.name === name);
      if (env.ROLE === 'worker') expect(scaled).toHaveLength(1);
      if (scaled.length > 0) {
        expect(deployment.spec.replicas).toBeUndefined();
        expect(scaled[0].spec.fallback.replicas).toBeGreaterThanOrEqual(1);
        const [trigger] = scaled[0].spec.triggers;
        expect(trigger.metadata.query).toBe(`max(queue_oldest_waiting_seconds{queue="${env.WORKER_QUEUES}"})`);
        // An empty answer (nothing scraped) is an error, so KEDA falls back instead of scaling to the minimum.
        expect(trigger.metadata.ignoreNullValues).toBe('false');
      }
    });

    it('gets the admin key only if it serves the API', () => {
      const hasAdminKey = containers.some((c) => 'ADMIN_API_KEY' in effectiveEnv(c));
      expect(hasAdminKey).toBe(env.ROLE === 'api');
    });
  });

  it('names the ConfigMap after its content, so a config change rolls every pod', () => {
    const config = readFileSync(join(K8S, 'config.env'), 'utf8');
    const changed = renderKustomization(K8S, { 'config.env': config.replace('LOG_LEVEL=info', 'LOG_LEVEL=debug') });
    const refs = (objects: K8sObject[]) =>
      new Set(
        byKind(objects, 'Deployment').flatMap((d) =>
          d.spec.template.spec.containers.flatMap((c: any) =>
            c.envFrom.filter((s: any) => s.configMapRef).map((s: any) => s.configMapRef.name),
          ),
        ),
      );
    expect(refs(rendered).size).toBe(1);
    const [before] = refs(rendered);
    const [after] = refs(changed);
    expect(before).toMatch(/^task-service-config-[0-9a-f]{10}$/);
    expect(after).not.toBe(before);
    expect(byKind(changed, 'ConfigMap').map((c) => c.metadata.name)).toEqual([after]);
  });

  it('keeps the admin key out of the Secret every pod reads', () => {
    expect(Object.keys(secrets.get('task-service-secrets')!)).not.toContain('ADMIN_API_KEY');
    expect(Object.keys(secrets.get('task-service-admin')!)).toEqual(['ADMIN_API_KEY']);
  });

  it('shows how to configure Redis Sentinel and Cluster with variables the app reads', () => {
    const examples = [
      readFileSync(join(K8S, 'config.env'), 'utf8'),
      readFileSync(join(K8S, 'secret.example.yaml'), 'utf8'),
    ]
      .join('\n')
      .match(/^\s*#\s+(REDIS_[A-Z_]+)[=:]/gm)!
      .map((line) => /(REDIS_[A-Z_]+)/.exec(line)![1]);
    expect([...new Set(examples)].sort()).toEqual(
      [
        'REDIS_CLUSTER_NODES',
        'REDIS_PASSWORD',
        'REDIS_SENTINELS',
        'REDIS_SENTINEL_MASTER',
        'REDIS_SENTINEL_PASSWORD',
      ].sort(),
    );
    for (const name of examples) expect(KNOWN_VARIABLES).toContain(name);
    // The example lines parse as the settings they show once uncommented.
    const sentinel = parseEnvFile(readFileSync(join(K8S, 'config.env'), 'utf8').replace(/^#\s+(REDIS_)/gm, '$1'));
    expect(sentinel.REDIS_SENTINELS.split(',').every((node) => /^[\w.-]+:\d+$/.test(node))).toBe(true);
    expect(sentinel.REDIS_CLUSTER_NODES.split(',').every((node) => /^[\w.-]+:\d+$/.test(node))).toBe(true);
  });

  it('scrapes every pod with the metrics token from the Secret (PodMonitor)', () => {
    const [podMonitor] = byKind(monitoring, 'PodMonitor');
    expect(podMonitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'task-service' });
    for (const d of deployments)
      expect(d.spec.template.metadata.labels).toMatchObject(podMonitor.spec.selector.matchLabels);
    const [endpoint] = podMonitor.spec.podMetricsEndpoints;
    expect(endpoint.path).toBe(METRICS_PATH);
    expect(endpoint.authorization).toEqual({
      type: 'Bearer',
      credentials: { name: 'task-service-secrets', key: 'METRICS_TOKEN' },
    });
    expect(secrets.get('task-service-secrets')!.METRICS_TOKEN).toBeDefined();
    for (const d of deployments)
      expect(d.spec.template.spec.containers[0].ports.map((p: any) => p.name)).toContain(endpoint.port);
  });

  it('ships the alert rules to the Prometheus Operator exactly as alerts.yml (which promtool tests)', () => {
    const [rule] = byKind(monitoring, 'PrometheusRule');
    const alerts = load(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as any;
    expect(rule.spec.groups).toEqual(alerts.groups);
  });

  it('routes the Service to the api pods by port name', () => {
    const [service] = byKind(rendered, 'Service');
    const api = deployments.find((d) => effectiveEnv(d.spec.template.spec.containers[0]).ROLE === 'api')!;
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
    expect(api.spec.template.spec.containers[0].ports.map((p: any) => p.name)).toContain(
      service.spec.ports[0].targetPort,
    );
  });

  it('docker-compose runs Redis on 6380 with AOF and noeviction, PostgreSQL, an SMTP catcher, migrations once, the api and a worker', () => {
    const compose = resolveMerges(load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')));
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'mailpit', 'migrate', 'postgres', 'redis', 'worker']);
    const redis = compose.services.redis.command.join(' ');
    expect(redis).toMatch(/--port 6380/);
    expect(redis).toMatch(/--appendonly yes/);
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
    expect(compose.services.migrate.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    for (const name of ['api', 'worker']) {
      const service = compose.services[name];
      expect(Object.keys(service.environment).filter((v) => !KNOWN_VARIABLES.has(v))).toEqual([]);
      expect(service.environment.REDIS_URL).toBe('redis://redis:6380/0');
      expect(service.environment.SMTP_URL).toMatch(/^smtp:\/\/mailpit:/);
      expect(service.command).toEqual(['node', 'dist/main.js', '--role', name]);
      expect(service.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
      expect(service.healthcheck.test.join(' ')).toContain(name === 'api' ? READINESS_PATH : LIVENESS_PATH);
      expect(Number.parseInt(service.stop_grace_period, 10) * 1000).toBeGreaterThan(
        Number(service.environment.SHUTDOWN_GRACE_MS),
      );
    }
  });

  it('the Dockerfile is multi-stage on a pinned Node 22, installs production dependencies alone, runs as a non-root user', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(image).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(new Set(stages)).toEqual(new Set(['${NODE_IMAGE}']));
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm prune/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${DEFAULT_PORT}$`, 'm'));
    expect(dockerfile).toContain(LIVENESS_PATH);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });
});
