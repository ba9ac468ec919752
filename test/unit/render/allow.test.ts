import { parseAllow } from '../../../src/render/allow.js';

describe('parseAllow', () => {
  it('reads values one per line or comma-separated, in any case, skipping blanks and comments', () => {
    const allow = parseAllow(
      'load-balancer, Node-Port\n\n# for the demo\ncluster-role:view\ncluster-role: pod-reader',
    );
    expect([...allow.classes].sort()).toEqual(['load-balancer', 'node-port']);
    expect([...allow.clusterRoles].sort()).toEqual(['pod-reader', 'view']);
  });

  it('allows nothing when empty', () => {
    expect(parseAllow('')).toEqual({ classes: new Set(), clusterRoles: new Set() });
  });

  it.each([
    [
      'hostnetwork',
      /"hostnetwork" is not something a preview can be allowed; valid values: node-port, .*cluster-role:<name>/,
    ],
    ['cluster-role:', /names no ClusterRole; write e.g. "cluster-role:view"/],
    ['cluster-role:cluster-admin', /cannot be allowed: a preview may never bind cluster-admin or admin/],
    ['cluster-role:admin', /cannot be allowed/],
  ])('refuses %s', (text, message) => expect(() => parseAllow(text)).toThrow(message));
});
