import { recordingLogger } from '../../support/logger.js';
import {
  DEPLOYMENT_TASK,
  createDeployment,
  deactivateDeployments,
  setDeploymentStatus,
} from '../../../src/github/deployments.js';
import { FULL, REPO, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();
const HEAD = sha('head-12');

function seedPull(number = 12, headSha = HEAD): void {
  emu().state.addPull({ repo: FULL, number, headSha, headRef: `feature/${number}` });
}

test('a preview deployment goes in_progress → success with the preview URL and the run log', async () => {
  seedPull();
  const gh = client(emu(), recordingLogger());
  const id = await createDeployment(gh, REPO, {
    ref: HEAD,
    environment: 'pr-12',
    description: 'Preview of #12',
    transient: true,
    production: false,
    prNumber: 12,
  });
  await setDeploymentStatus(gh, REPO, id, {
    state: 'in_progress',
    logUrl: 'https://github.com/acme/shop/actions/runs/7',
  });
  await setDeploymentStatus(gh, REPO, id, {
    state: 'success',
    environmentUrl: 'https://pr-12.preview.example.com',
    logUrl: 'https://github.com/acme/shop/actions/runs/7',
    description: 'Preview ready',
  });

  const [d] = emu().state.deployments(FULL);
  expect(d).toMatchObject({
    id,
    sha: HEAD,
    ref: HEAD,
    environment: 'pr-12',
    task: DEPLOYMENT_TASK,
    transientEnvironment: true,
    productionEnvironment: false,
    payload: { kubestage: { pr: 12 } },
    latestState: 'success',
  });
  const statuses = emu().state.deploymentStatuses(FULL, id);
  expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  expect(statuses[1]).toMatchObject({
    environmentUrl: 'https://pr-12.preview.example.com',
    logUrl: 'https://github.com/acme/shop/actions/runs/7',
    description: 'Preview ready',
  });
  const create = emu().requests.find((r) => r.operationId === 'repos/create-deployment');
  expect(create?.body).toMatchObject({ auto_merge: false, required_contexts: [] });
});

test('descriptions longer than GitHub’s 140 characters are shortened, not rejected', async () => {
  seedPull();
  const gh = client(emu(), recordingLogger());
  const long = `Failed: ${'ImagePullBackOff '.repeat(20)}`;
  const id = await createDeployment(gh, REPO, { ref: HEAD, environment: 'pr-12', description: long });
  await setDeploymentStatus(gh, REPO, id, { state: 'failure', description: long });

  const [status] = emu().state.deploymentStatuses(FULL, id);
  expect([...status!.description].length).toBe(140);
  expect(status!.description.endsWith('…')).toBe(true);
  expect([...(emu().state.deployments(FULL)[0]!.description ?? '')].length).toBeLessThanOrEqual(140);
});

test('cleanup marks every kubestage deployment of the PR inactive, across pages, and leaves others alone', async () => {
  seedPull(12);
  seedPull(13, sha('head-13'));
  const gh = client(emu(), recordingLogger());
  const ours: number[] = [];
  for (let i = 0; i < 103; i++) {
    ours.push(await createDeployment(gh, REPO, { ref: HEAD, environment: 'pr-12', prNumber: 12 }));
  }
  await setDeploymentStatus(gh, REPO, ours[0]!, {
    state: 'success',
    environmentUrl: 'https://pr-12.preview.example.com',
  });
  await setDeploymentStatus(gh, REPO, ours[1]!, { state: 'inactive' });
  const otherPr = await createDeployment(gh, REPO, {
    ref: sha('head-13'),
    environment: 'pr-13',
    prNumber: 13,
  });
  // Someone else's deployment to the same environment (e.g. made by GitHub for a job's `environment:`).
  const { data: foreign } = await gh.rest.repos.createDeployment({
    ...REPO,
    ref: HEAD,
    environment: 'pr-12',
    required_contexts: [],
  });

  const changed = await deactivateDeployments(gh, REPO, { environment: 'pr-12', prNumber: 12 });

  expect(changed).toBe(102); // 103 minus the one already inactive
  const byId = new Map(
    emu()
      .state.deployments(FULL)
      .map((d) => [d.id, d.latestState]),
  );
  for (const id of ours) expect(byId.get(id)).toBe('inactive');
  expect(byId.get(otherPr)).toBeUndefined();
  expect(byId.get((foreign as { id: number }).id)).toBeUndefined();
  // The already-inactive one got no second inactive status.
  expect(emu().state.deploymentStatuses(FULL, ours[1]!)).toHaveLength(1);
  const pages = emu()
    .requests.filter((r) => r.operationId === 'repos/list-deployments')
    .map((r) => r.query);
  expect(pages.some((q) => /page=2/.test(q))).toBe(true);

  // Running cleanup again changes nothing.
  expect(await deactivateDeployments(gh, REPO, { environment: 'pr-12', prNumber: 12 })).toBe(0);
});

test('deactivation can be narrowed to one commit', async () => {
  const next = sha('head-12-second-push');
  seedPull();
  const gh = client(emu(), recordingLogger());
  const first = await createDeployment(gh, REPO, { ref: HEAD, environment: 'pr-12', prNumber: 12 });
  seedPull(12, next);
  const second = await createDeployment(gh, REPO, { ref: next, environment: 'pr-12', prNumber: 12 });

  expect(await deactivateDeployments(gh, REPO, { environment: 'pr-12', sha: HEAD })).toBe(1);
  const byId = new Map(
    emu()
      .state.deployments(FULL)
      .map((d) => [d.id, d.latestState]),
  );
  expect(byId.get(first)).toBe('inactive');
  expect(byId.get(second)).toBeUndefined();
});
