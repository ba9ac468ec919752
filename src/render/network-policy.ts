// NetworkPolicies add up: a PR's own policy that admits other namespaces, addresses or everyone would undo
// the isolation kubestage puts in every preview. Refused unless the team allows it (`allow: network-policies`).
import { apiGroup, type KubeObject } from '../model/kube-object.js';
import { allowHint, type Allowance } from './allow.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Why a NetworkPolicy in the render widens the preview's isolation; empty when it does not. */
export function networkPolicyViolations(o: KubeObject, allow: Allowance): string[] {
  if (o.kind !== 'NetworkPolicy' || apiGroup(o.apiVersion) !== 'networking.k8s.io') return [];
  if (allow.classes.has('network-policies')) return [];
  const spec = obj(o.spec);
  const out: string[] = [];
  const check = (direction: 'ingress' | 'egress', peersKey: 'from' | 'to'): void => {
    list(spec[direction]).forEach((rule, i) => {
      const peers = obj(rule)[peersKey];
      if (peers === undefined || list(peers).length === 0) {
        out.push(
          `spec.${direction}[${i}] has no "${peersKey}", so it admits ${direction === 'ingress' ? 'traffic from anywhere' : 'traffic to anywhere'} (other namespaces included)`,
        );
        return;
      }
      list(peers).forEach((p, j) => {
        const peer = obj(p);
        if (peer.namespaceSelector !== undefined)
          out.push(`spec.${direction}[${i}].${peersKey}[${j}].namespaceSelector reaches other namespaces`);
        if (peer.ipBlock !== undefined)
          out.push(
            `spec.${direction}[${i}].${peersKey}[${j}].ipBlock reaches addresses outside the namespace`,
          );
      });
    });
  };
  check('ingress', 'from');
  check('egress', 'to');
  return out.map(
    (r) =>
      `${r}; NetworkPolicies add up, so it would undo the isolation kubestage gives every preview. Keep the PR's policies to podSelector peers (the same namespace)${allowHint('network-policies')}`,
  );
}
