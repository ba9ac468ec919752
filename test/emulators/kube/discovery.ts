// Discovery documents (/api, /apis, /apis/<g>/<v>) and the small part of OpenAPI v3 that kubectl
// reads. Legacy (non-aggregated) discovery only: kubectl asks for the aggregated form first but
// falls back when the answer's Content-Type is plain application/json.
//
// OpenAPI: `kubectl apply` (validate=strict) asks /openapi/v3 whether PATCH of the kind accepts the
// `fieldValidation` query parameter; a "yes" makes it rely on server-side validation instead of
// downloading /openapi/v2 (which we do not serve) for client-side validation. The PATCH operations
// deliberately list no strategic-merge request body, so client-side `kubectl apply` computes its
// patch from its compiled-in types (as with an old server) rather than from schemas we do not have.
import { apiVersionOf, servedVersions, type ResourceType } from './store.js';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kubestage-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface GroupVersion {
  group: string;
  version: string;
  types: ResourceType[];
}

function groupVersions(types: ResourceType[]): GroupVersion[] {
  const byGv = new Map<string, GroupVersion>();
  for (const preferred of types) {
    for (const version of servedVersions(preferred)) {
      const t = { ...preferred, version, alsoServed: undefined };
      const key = apiVersionOf(t);
      let gv = byGv.get(key);
      if (!gv) {
        gv = { group: t.group, version: t.version, types: [] };
        byGv.set(key, gv);
      }
      gv.types.push(t);
    }
  }
  return [...byGv.values()];
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(gv: GroupVersion[]): unknown {
  const versions = gv.map((g) => ({ groupVersion: apiVersionOf(g), version: g.version }));
  return { name: gv[0].group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(types: ResourceType[]): unknown {
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of groupVersions(types)) {
    if (gv.group === '') continue;
    byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv]);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...byGroup.values()].map(groupDoc) };
}

export function apiGroup(types: ResourceType[], group: string): unknown | undefined {
  const gvs = groupVersions(types).filter((g) => g.group === group);
  if (!gvs.length || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(gvs) as object) };
}

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  finalize: ['update'],
};

export function apiResourceList(types: ResourceType[], group: string, version: string): unknown | undefined {
  const ts = groupVersions(types).find((gv) => gv.group === group && gv.version === version)?.types ?? [];
  if (!ts.length) return undefined;
  const resources: unknown[] = [];
  for (const t of ts) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs ?? [],
      ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources ?? []) {
      const scale = sub === 'scale';
      resources.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(scale ? { group: 'autoscaling', version: 'v1' } : {}),
        kind: scale ? 'Scale' : t.kind,
        verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

function openapiPathOf(gv: Pick<GroupVersion, 'group' | 'version'>): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
}

/** The /openapi/v3 root: one entry per group-version, each pointing at its own document. */
export function openapiV3Root(types: ResourceType[], hash: string): unknown {
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions(types)) {
    paths[openapiPathOf(gv)] = { serverRelativeURL: `/openapi/v3/${openapiPathOf(gv)}?hash=${hash}` };
  }
  return { paths };
}

/** /openapi/v3/apis/<g>/<v>: a PATCH operation per kind, declaring the fieldValidation parameter. */
export function openapiV3GroupVersion(types: ResourceType[], gvPath: string): unknown | undefined {
  const gv = groupVersions(types).find((g) => openapiPathOf(g) === gvPath);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  const queryParams = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' ? 'boolean' : 'string' },
  }));
  for (const t of gv.types) {
    const base = `/${gvPath}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${t.kind}`,
        parameters: queryParams,
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion },
    paths,
    components: { schemas: {} },
  };
}
