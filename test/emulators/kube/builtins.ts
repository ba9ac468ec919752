// The built-in kinds the emulator serves, as a real v1.32 API server names them in discovery.
import type { KObject, ResourceType } from './store.js';

const rw = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function t(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, verbs: rw, ...extra };
}

const ro = ['get', 'list'];
const createOnly = ['create'];
/** Namespaces cannot be deleted as a collection. */
const rwNoCollection = rw.filter((v) => v !== 'deletecollection');
const all = ['all'];
const apiExtensions = ['api-extensions'];

/**
 * Every resource a v1.32 API server (kind's default feature gates) serves, with its scope, verbs,
 * shortNames and categories as its discovery documents list them. Types with only `create` are
 * reviews: answered, never stored (see isReviewType).
 */
export const BUILTIN_TYPES: ResourceType[] = [
  // core/v1
  t('', 'v1', 'Binding', 'bindings', true, { verbs: createOnly }),
  t('', 'v1', 'ComponentStatus', 'componentstatuses', false, { shortNames: ['cs'], verbs: ro }),
  t('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  t('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  t('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  t('', 'v1', 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  t('', 'v1', 'Namespace', 'namespaces', false, {
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    verbs: rwNoCollection,
  }),
  t('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status'] }),
  t('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, {
    shortNames: ['pvc'],
    subresources: ['status'],
  }),
  t('', 'v1', 'PersistentVolume', 'persistentvolumes', false, {
    shortNames: ['pv'],
    subresources: ['status'],
  }),
  t('', 'v1', 'Pod', 'pods', true, { shortNames: ['po'], categories: all, subresources: ['status', 'log'] }),
  t('', 'v1', 'PodTemplate', 'podtemplates', true),
  t('', 'v1', 'ReplicationController', 'replicationcontrollers', true, {
    shortNames: ['rc'],
    categories: all,
    subresources: ['status', 'scale'],
  }),
  t('', 'v1', 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: ['status'] }),
  t('', 'v1', 'Secret', 'secrets', true),
  t('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
  t('', 'v1', 'Service', 'services', true, {
    shortNames: ['svc'],
    categories: all,
    subresources: ['status'],
  }),
  // admissionregistration.k8s.io/v1
  t(
    'admissionregistration.k8s.io',
    'v1',
    'MutatingWebhookConfiguration',
    'mutatingwebhookconfigurations',
    false,
    {
      categories: apiExtensions,
    },
  ),
  t('admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', false, {
    categories: apiExtensions,
    subresources: ['status'],
  }),
  t(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingAdmissionPolicyBinding',
    'validatingadmissionpolicybindings',
    false,
    { categories: apiExtensions },
  ),
  t(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
    { categories: apiExtensions },
  ),
  // apiextensions.k8s.io/v1
  t('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'],
    categories: apiExtensions,
    subresources: ['status'],
  }),
  // apiregistration.k8s.io/v1
  t('apiregistration.k8s.io', 'v1', 'APIService', 'apiservices', false, {
    categories: apiExtensions,
    subresources: ['status'],
  }),
  // apps/v1
  t('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  t('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
    shortNames: ['ds'],
    categories: all,
    subresources: ['status'],
  }),
  t('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    categories: all,
    subresources: ['status', 'scale'],
  }),
  t('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'],
    categories: all,
    subresources: ['status', 'scale'],
  }),
  t('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'],
    categories: all,
    subresources: ['status', 'scale'],
  }),
  // events.k8s.io/v1 (kept apart from core/v1 Events here; a real server shares their storage)
  t('events.k8s.io', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  // authentication.k8s.io/v1
  t('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', false, { verbs: createOnly }),
  t('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', false, { verbs: createOnly }),
  // authorization.k8s.io/v1
  t('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true, {
    verbs: createOnly,
  }),
  t('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, {
    verbs: createOnly,
  }),
  t('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, {
    verbs: createOnly,
  }),
  t('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false, {
    verbs: createOnly,
  }),
  // autoscaling/v2, also served as autoscaling/v1 (v2 preferred)
  t('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    categories: all,
    subresources: ['status'],
    alsoServed: ['v1'],
  }),
  // batch/v1
  t('batch', 'v1', 'CronJob', 'cronjobs', true, {
    shortNames: ['cj'],
    categories: all,
    subresources: ['status'],
  }),
  t('batch', 'v1', 'Job', 'jobs', true, { categories: all, subresources: ['status'] }),
  // certificates.k8s.io/v1
  t('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', false, {
    shortNames: ['csr'],
    subresources: ['status'],
  }),
  // coordination.k8s.io/v1
  t('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  // discovery.k8s.io/v1
  t('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  // flowcontrol.apiserver.k8s.io/v1
  t('flowcontrol.apiserver.k8s.io', 'v1', 'FlowSchema', 'flowschemas', false, { subresources: ['status'] }),
  t(
    'flowcontrol.apiserver.k8s.io',
    'v1',
    'PriorityLevelConfiguration',
    'prioritylevelconfigurations',
    false,
    {
      subresources: ['status'],
    },
  ),
  // networking.k8s.io/v1
  t('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  t('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, {
    shortNames: ['ing'],
    subresources: ['status'],
  }),
  t('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  // node.k8s.io/v1
  t('node.k8s.io', 'v1', 'RuntimeClass', 'runtimeclasses', false),
  // policy/v1
  t('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, {
    shortNames: ['pdb'],
    subresources: ['status'],
  }),
  // rbac.authorization.k8s.io/v1
  t('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  t('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  t('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  t('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  // scheduling.k8s.io/v1
  t('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, { shortNames: ['pc'] }),
  // storage.k8s.io/v1
  t('storage.k8s.io', 'v1', 'CSIDriver', 'csidrivers', false),
  t('storage.k8s.io', 'v1', 'CSINode', 'csinodes', false),
  t('storage.k8s.io', 'v1', 'CSIStorageCapacity', 'csistoragecapacities', true),
  t('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, { shortNames: ['sc'] }),
  t('storage.k8s.io', 'v1', 'VolumeAttachment', 'volumeattachments', false, { subresources: ['status'] }),
];

/** Review kinds (only `create`): answered on POST, never stored. */
export function isReviewType(t: Pick<ResourceType, 'verbs'>): boolean {
  return t.verbs?.length === 1 && t.verbs[0] === 'create';
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** The emulator's nodes: how many, and what each offers (the scheduler fits pods into this). */
export interface NodeOptions {
  /** Default 1 (kind's single control-plane node). */
  count?: number;
  /** Allocatable resources of each node; default 8 CPU, 16318856Ki memory, 110 pods. */
  allocatable?: { cpu?: string; memory?: string; pods?: string };
  /** Extra labels on every node. */
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** A Ready node as a kind/kubeadm node reports itself; `index` picks its name suffix and IP. */
export function emulatorNode(
  name: string,
  kubeletVersion: string,
  opts: NodeOptions = {},
  index = 0,
): KObject {
  const resources = {
    cpu: opts.allocatable?.cpu ?? '8',
    'ephemeral-storage': '102626232Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: opts.allocatable?.memory ?? '16318856Ki',
    pods: opts.allocatable?.pods ?? '110',
  };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        ...(index === 0 ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
        ...opts.labels,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: `10.244.${index}.0/24`,
      podCIDRs: [`10.244.${index}.0/24`],
      ...(opts.taints?.length ? { taints: opts.taints } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: `172.18.0.${2 + index}` },
        { type: 'Hostname', address: name },
      ],
      allocatable: { ...resources },
      capacity: { ...resources },
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '6f1c3f0e-0b7a-4c1e-9d8e-000000000001',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: '6.8.0-emulator',
        kubeProxyVersion: kubeletVersion,
        kubeletVersion,
        machineID: '00000000000000000000000000000001',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '00000000-0000-0000-0000-000000000001',
      },
    },
  };
}
