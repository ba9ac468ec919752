import {
  renderTemplate,
  slugify,
  validateHostname,
  validateNamespaceName,
} from '../../../src/model/templates.js';

const vars = {
  number: 42,
  domain: 'preview.example.com',
  owner: 'Acme',
  repo: 'Shop.Web',
  sha7: 'abc1234',
  branch: 'feature/Login_v2',
};

describe('renderTemplate', () => {
  it.each([
    ['pr-{number}', 'pr-42'],
    ['pr-{number}.{domain}', 'pr-42.preview.example.com'],
    ['{repo}-pr-{number}', 'shop-web-pr-42'],
    ['{owner}-{branch}', 'acme-feature-login-v2'],
    ['{sha7}.{domain}', 'abc1234.preview.example.com'],
    ['static', 'static'],
  ])('%s → %s', (template, out) => {
    expect(renderTemplate(template, vars, 'input "namespace-template"')).toBe(out);
  });

  it('names an unknown placeholder and lists the known ones', () => {
    expect(() => renderTemplate('pr-{num}', vars, 'input "namespace-template"')).toThrow(
      'input "namespace-template" "pr-{num}" uses unknown placeholder {num}. Known placeholders: {number}, {domain}, {owner}, {repo}, {sha7}, {branch}, {namespace}, {app}.',
    );
  });

  it.each([
    ['pr-{Number}', /unknown placeholder \{Number\}/],
    ['pr-{number', /unmatched/],
    ['pr-}{number}', /unmatched/],
  ])('refuses %s', (template, message) => {
    expect(() => renderTemplate(template, vars, 'input "x"')).toThrow(message);
  });

  it('says which known placeholder has no value in this run', () => {
    expect(() => renderTemplate('{branch}', { number: 1 }, 'input "x"')).toThrow(
      /uses \{branch\}, which has no value in this run \(available: \{number\}\)/,
    );
  });

  it('refuses a branch that slugs to nothing', () => {
    expect(() => renderTemplate('b-{branch}', { branch: '___' }, 'input "x"')).toThrow(
      /"___", which has no letters or digits/,
    );
  });
});

describe('slugify', () => {
  it.each([
    ['feature/Login_v2', 'feature-login-v2'],
    ['--Hello--World--', 'hello-world'],
    ['dependabot/npm_and_yarn/@types/node-24', 'dependabot-npm-and-yarn-types-node-24'],
    ['a'.repeat(62) + '-b', 'a'.repeat(62)],
    ['ÄÖÜ', ''],
  ])('%s → %s', (input, out) => expect(slugify(input)).toBe(out));
});

describe('validateNamespaceName', () => {
  it.each(['pr-42', 'a', 'x'.repeat(63), '1-2'])('accepts %s', (name) => {
    expect(validateNamespaceName(name, 'input "namespace-template"')).toBe(name);
  });

  it.each([
    ['', /it is empty/],
    ['x'.repeat(64), /64 characters long \(the limit is 63\)/],
    ['Pr-42', /upper-case/],
    ['pr_42', /contains "_"/],
    ['pr.42', /contains "\."/],
    ['-pr', /start and end with a letter or digit/],
    ['pr-', /start and end/],
  ])('refuses %j, quoting it and its source', (name, why) => {
    const run = () => validateNamespaceName(name, 'input "namespace-template" ("pr-{number}")');
    expect(run).toThrow(why);
    expect(run).toThrow(
      `Namespace name "${name}" produced by input "namespace-template" ("pr-{number}") is not valid`,
    );
  });
});

describe('validateHostname', () => {
  it.each(['pr-42.preview.example.com', 'localhost', 'a-b.c'])('accepts %s', (host) => {
    expect(validateHostname(host, 'input "host-template"')).toBe(host);
  });

  it.each([
    ['', /empty/],
    ['https://pr-1.example.com', /URL scheme/],
    ['pr-1.example.com/app', /path/],
    ['pr-1.example.com:8443', /port/],
    ['*.example.com', /wildcard/],
    ['pr-1.example.com.', /trailing dot/],
    ['PR-1.example.com', /upper-case/],
    ['10.0.0.1', /IP address/],
    ['pr-1..example.com', /empty part/],
    ['pr_1.example.com', /the part "pr_1": it contains "_"/],
    [`${'a'.repeat(64)}.example.com`, /is 64 characters long/],
    [`${'a.'.repeat(127)}ab`, /256 characters long \(the limit is 253\)/],
  ])('refuses %j, quoting it and its source', (host, why) => {
    const run = () => validateHostname(host, 'input "host-template" ("pr-{number}.{domain}")');
    expect(run).toThrow(why);
    expect(run).toThrow(`Host "${host}" produced by input "host-template" ("pr-{number}.{domain}")`);
  });
});
