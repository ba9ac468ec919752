// The create-only review kinds: answered at once, never stored. The emulator's authorizer allows
// every authenticated user everything (cluster-admin, as kind's kubeconfig user is); TokenReview
// asks the same authenticator that guards the API.
import type { Authenticator } from './auth.js';
import { success } from './status.js';
import { apiVersionOf, type ResourceType } from './store.js';

const AUTHENTICATED_GROUPS = ['system:masters', 'system:authenticated'];

export function reviewAnswer(
  t: ResourceType,
  spec: Record<string, unknown>,
  user: string,
  auth: Pick<Authenticator, 'userForToken'>,
): unknown {
  if (t.kind === 'Binding') return { ...success(), code: 201 };
  const head = { kind: t.kind, apiVersion: apiVersionOf(t), metadata: {} };
  switch (t.kind) {
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview':
      return { ...head, spec, status: { allowed: true } };
    case 'SelfSubjectRulesReview':
      return {
        ...head,
        spec,
        status: {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: false,
        },
      };
    case 'SelfSubjectReview':
      return { ...head, status: { userInfo: { username: user, groups: AUTHENTICATED_GROUPS } } };
    case 'TokenReview': {
      const who = typeof spec.token === 'string' ? auth.userForToken(spec.token) : undefined;
      return {
        ...head,
        spec,
        status:
          who === undefined
            ? { user: {}, error: '[invalid bearer token, token lookup failed]' }
            : { authenticated: true, user: { username: who, groups: AUTHENTICATED_GROUPS } },
      };
    }
    default:
      return { ...head, spec, status: {} };
  }
}
