import { previewNames, type NamingOptions } from '../../../src/steps/names.js';

const base: NamingOptions = {
  owner: 'Acme.Org',
  repo: 'Shop',
  domain: 'preview.example.com',
  namespaceTemplate: 'pr-{number}',
  hostTemplate: 'pr-{number}.{domain}',
  deploymentEnvironment: 'preview',
};
const pr = { number: 7, headSha: 'a'.repeat(40), headRef: 'feature/Checkout_v2' };

test('the defaults give pr-<n>, its host and URL, and one shared environment', () => {
  expect(previewNames(base, pr)).toEqual({
    namespace: 'pr-7',
    host: 'pr-7.preview.example.com',
    url: 'https://pr-7.preview.example.com',
    environment: 'preview',
  });
});

test('branch, owner and repo are slugged into valid names', () => {
  const names = previewNames(
    {
      ...base,
      namespaceTemplate: '{repo}-{branch}',
      hostTemplate: '{branch}.{owner}.{domain}',
      deploymentEnvironment: 'pr-{number}',
    },
    pr,
  );
  expect(names).toMatchObject({
    namespace: 'shop-feature-checkout-v2',
    host: 'feature-checkout-v2.acme-org.preview.example.com',
    environment: 'pr-7',
  });
});

test('a long branch name is shortened with a hash so the name still fits, and stays distinct', () => {
  const long = 'feature/' + 'a-very-long-description-of-the-change'.repeat(3);
  const a = previewNames(
    { ...base, namespaceTemplate: 'preview-{number}-{branch}', hostTemplate: '{branch}.{domain}' },
    { ...pr, headRef: long },
  );
  const b = previewNames(
    { ...base, namespaceTemplate: 'preview-{number}-{branch}', hostTemplate: '{branch}.{domain}' },
    { ...pr, headRef: long + '-2' },
  );
  expect(a.namespace.length).toBeLessThanOrEqual(63);
  expect(a.namespace).toMatch(/^preview-7-feature-a-very-long.*-[0-9a-f]{6}$/);
  expect(a.host.split('.')[0].length).toBeLessThanOrEqual(63);
  expect(a.namespace).not.toBe(b.namespace);
});

test('a template that is too long without the branch is refused, naming the input', () => {
  expect(() => previewNames({ ...base, namespaceTemplate: 'x'.repeat(70) + '-{number}' }, pr)).toThrow(
    'namespace-template',
  );
});

test("the cluster's own namespaces are refused as preview names", () => {
  expect(() => previewNames({ ...base, namespaceTemplate: 'kube-{number}' }, pr)).toThrow(
    'namespace-template gives "kube-7", a name reserved for the cluster itself',
  );
});
