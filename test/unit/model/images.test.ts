import { defaultPreviewTag, formatImageRef, parseImages, splitImageRef } from '../../../src/model/images.js';

const TAG = 'pr-42-abc1234';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseImages', () => {
  it.each([
    ['web', [{ name: 'web', newTag: TAG }]],
    ['web=ghcr.io/acme/web', [{ name: 'web', newName: 'ghcr.io/acme/web', newTag: TAG }]],
    ['web=ghcr.io/acme/web:v1.2.3', [{ name: 'web', newName: 'ghcr.io/acme/web', newTag: 'v1.2.3' }]],
    [`web=ghcr.io/acme/web@${DIGEST}`, [{ name: 'web', newName: 'ghcr.io/acme/web', digest: DIGEST }]],
    [
      `web=ghcr.io/acme/web:v1@${DIGEST}`,
      [{ name: 'web', newName: 'ghcr.io/acme/web', newTag: 'v1', digest: DIGEST }],
    ],
    ['localhost:5000/web=localhost:5000/web:t1', [{ name: 'localhost:5000/web', newTag: 't1' }]],
    ['localhost:5000/web', [{ name: 'localhost:5000/web', newTag: TAG }]],
    [
      'us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend=ghcr.io/acme/frontend:pr-7',
      [
        {
          name: 'us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend',
          newName: 'ghcr.io/acme/frontend',
          newTag: 'pr-7',
        },
      ],
    ],
    [
      '# comment\n\n  web = ghcr.io/a/web:x  \r\napi\n',
      [
        { name: 'web', newName: 'ghcr.io/a/web', newTag: 'x' },
        { name: 'api', newTag: TAG },
      ],
    ],
    ['', []],
  ])('%j', (input, expected) => {
    expect(parseImages(input, TAG)).toEqual(expected);
  });

  it.each([
    ['web=ghcr.io/a/web:bad/tag', 1, /"bad\/tag" is not a valid image path component|tag/],
    ['\nweb=ghcr.io/a/web:-bad', 2, /tag "-bad" is not valid/],
    [`web=ghcr.io/a/web:${'x'.repeat(129)}`, 1, /is not valid/],
    [
      'web=ghcr.io/a/web@sha256:abc',
      1,
      /digest "sha256:abc" is not valid; it must be "sha256:" followed by 64/,
    ],
    [`web=ghcr.io/a/web@md5:${'a'.repeat(32)}`, 1, /digest "md5:/],
    ['web:1.0=ghcr.io/a/web', 1, /carries a tag; .*\("web"\)/],
    ['web=', 1, /nothing after "="/],
    ['Web=ghcr.io/a/web', 1, /NAME "Web" is not a valid image name/],
    ['web=ghcr.io/A/web', 1, /new image "ghcr.io\/A\/web" is not a valid image name: "A"/],
    ['web=ghcr.io//web', 1, /empty path component/],
    ['web\n# x\nweb=other', 3, /"web" was already given on line 1/],
  ])('refuses %j naming line %d and showing an example', (input, line, why) => {
    const run = () => parseImages(input, TAG);
    expect(run).toThrow(why);
    expect(run).toThrow(`images, line ${line} `);
    expect(run).toThrow(/Examples: "web=ghcr.io\/acme\/web:pr-42-abc1234"/);
  });

  it('refuses an invalid default tag', () => {
    expect(() => parseImages('web', 'pr 1')).toThrow(/default image tag "pr 1" is not a valid tag/);
  });
});

describe('splitImageRef', () => {
  it.each([
    ['web', { name: 'web' }],
    ['web:1', { name: 'web', tag: '1' }],
    ['localhost:5000/web', { name: 'localhost:5000/web' }],
    ['localhost:5000/web:1', { name: 'localhost:5000/web', tag: '1' }],
    [`a/b@${DIGEST}`, { name: 'a/b', digest: DIGEST }],
    [`a/b:t@${DIGEST}`, { name: 'a/b', tag: 't', digest: DIGEST }],
  ])('%s', (ref, parts) => expect(splitImageRef(ref)).toEqual(parts));
});

describe('formatImageRef', () => {
  it.each([
    [{ name: 'web', newTag: 't' }, 'web:t'],
    [{ name: 'web', newName: 'ghcr.io/a/web', newTag: 't' }, 'ghcr.io/a/web:t'],
    [{ name: 'web', newName: 'ghcr.io/a/web', digest: DIGEST }, `ghcr.io/a/web@${DIGEST}`],
    [{ name: 'web', newTag: 't', digest: DIGEST }, `web:t@${DIGEST}`],
    [{ name: 'localhost:5000/web' }, 'localhost:5000/web'],
  ])('%j → %s', (o, ref) => expect(formatImageRef(o)).toBe(ref));
});

describe('defaultPreviewTag', () => {
  it.each([
    [42, 'ABC1234def', 'pr-42-abc1234'],
    [1, 'a'.repeat(40), 'pr-1-aaaaaaa'],
  ])('PR %d at %s → %s', (n, sha, tag) => expect(defaultPreviewTag(n, sha)).toBe(tag));

  it.each([
    [0, 'abc1234', /PR number 0/],
    [1.5, 'abc1234', /PR number 1.5/],
    [1, 'abc12', /"abc12" is not 7–64 hex digits/],
    [1, 'zzzzzzz', /not 7–64 hex/],
  ])('refuses PR %d / %s', (n, sha, why) => expect(() => defaultPreviewTag(n, sha)).toThrow(why));
});
