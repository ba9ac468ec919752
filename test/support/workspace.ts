// Throw-away workspaces with a user's manifests, as a checkout would have them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function makeWorkspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-ws-'));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export function removeFile(dir: string, path: string): void {
  rmSync(join(dir, path), { force: true });
}

/** A small app: a Deployment, a Service and a ConfigMap (plus any extra documents) under k8s/. */
export function appManifests(
  opts: { image?: string; extra?: string; resources?: string[] } = {},
): Record<string, string> {
  const resources = opts.resources ?? ['app.yaml', ...(opts.extra ? ['extra.yaml'] : [])];
  return {
    'k8s/kustomization.yaml': `resources:\n${resources.map((r) => `  - ${r}`).join('\n')}\n`,
    'k8s/app.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ${opts.image ?? 'example/web:1.0'}
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  MODE: preview
`,
    ...(opts.extra ? { 'k8s/extra.yaml': opts.extra } : {}),
  };
}
