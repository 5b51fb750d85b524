import { createHash } from 'node:crypto';
import { load, loadAll } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Kubernetes object as the specs read it. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/** The fields of kustomization.yaml this renderer applies; any other field fails the render. */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'images']);

/** `KEY=VALUE` lines of an env file, as kustomize's `envs` reads them (comments and blanks skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const at = trimmed.indexOf('=');
    data[trimmed.slice(0, at)] = trimmed.slice(at + 1);
  }
  return data;
}

/**
 * Renders a kustomization the way `kubectl kustomize` does for the features it uses (kubectl is
 * not installed here): resources, configMapGenerator with a content-hash name suffix that every
 * reference follows, and image tags. `overrides` replaces a file's text, to see a change roll.
 */
export function renderKustomization(dir: string, overrides: Record<string, string> = {}): K8sObject[] {
  const read = (file: string) => overrides[file] ?? readFileSync(join(dir, file), 'utf8');
  const kustomization = load(read('kustomization.yaml')) as any;
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`The spec's renderer does not apply ${unsupported.join(', ')}`);

  const objects: K8sObject[] = (kustomization.resources ?? []).flatMap((file: string) =>
    (loadAll(read(file)) as K8sObject[]).filter(Boolean),
  );
  const renamed = new Map<string, string>();
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.envs ?? []) Object.assign(data, parseEnvFile(read(file)));
    for (const literal of generator.literals ?? []) Object.assign(data, parseEnvFile(literal));
    const hash = createHash('sha256')
      .update(JSON.stringify({ name: generator.name, data }))
      .digest('hex')
      .slice(0, 10);
    const name = `${generator.name}-${hash}`;
    renamed.set(generator.name, name);
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: generator.options?.labels },
      data,
    });
  }
  for (const object of objects) {
    const pod = object.kind === 'Deployment' ? object.spec.template.spec : null;
    if (!pod) continue;
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      for (const source of container.envFrom ?? [])
        if (source.configMapRef)
          source.configMapRef.name = renamed.get(source.configMapRef.name) ?? source.configMapRef.name;
      for (const entry of container.env ?? []) {
        const ref = entry.valueFrom?.configMapKeyRef;
        if (ref) ref.name = renamed.get(ref.name) ?? ref.name;
      }
      const image = (kustomization.images ?? []).find((i: any) => i.name === container.image.split(':')[0]);
      if (image) container.image = `${image.newName ?? image.name}:${image.newTag}`;
    }
    for (const volume of pod.volumes ?? [])
      if (volume.configMap) volume.configMap.name = renamed.get(volume.configMap.name) ?? volume.configMap.name;
  }
  return objects;
}
