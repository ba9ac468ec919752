// The test bed's own routes under /_emulator/: seed and read the GitHub emulator's state from outside
// the process (curl, another language's client, the `npm run emulators` user). They live outside
// GitHub's URL space, skip the OpenAPI check and are not recorded as GitHub requests.
import type {
  AddEnvironmentOptions,
  AddPullOptions,
  GitHubState,
  RunRecord,
  StartRunOptions,
} from './state.js';

export const CONTROL_PREFIX = '/_emulator/';

export interface ControlReply {
  status: number;
  body: unknown;
}

export interface ControlContext {
  state: GitHubState;
  requests: () => unknown[];
}

/** Answers a control request, or undefined when the path is not a control route. */
export function handleControl(
  method: string,
  path: string,
  raw: string,
  ctx: ControlContext,
): ControlReply | undefined {
  if (!path.startsWith(CONTROL_PREFIX)) return undefined;
  const route = `${method} ${path.slice(CONTROL_PREFIX.length).replace(/\/+$/, '')}`;
  let body: Record<string, unknown> = {};
  if (raw.trim()) {
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch (e) {
      return { status: 400, body: { message: `the body is not JSON: ${(e as Error).message}` } };
    }
  }
  const need = (field: string): string => {
    const v = body[field];
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`"${field}" is required`);
    return String(v);
  };
  try {
    switch (route) {
      case 'GET state':
        return { status: 200, body: snapshot(ctx.state) };
      case 'GET requests':
        return { status: 200, body: ctx.requests() };
      case 'POST repos':
        ctx.state.addRepo(need('fullName'));
        return { status: 201, body: snapshot(ctx.state) };
      case 'POST pulls': {
        const repo = need('repo');
        if (!ctx.state.repo(repo)) ctx.state.addRepo(repo);
        const pull = ctx.state.addPull({
          ...(body as unknown as AddPullOptions),
          number: Number(need('number')),
        });
        return { status: 201, body: pull };
      }
      case 'PATCH pulls': {
        const repo = need('repo');
        const number = Number(need('number'));
        const pull = ctx.state.repo(repo)?.pulls.get(number);
        if (!pull)
          return { status: 404, body: { message: `no pull request ${repo}#${number}; POST it first` } };
        if (typeof body.headSha === 'string') pull.headSha = body.headSha;
        if (body.state === 'open' || body.state === 'closed')
          ctx.state.setPullState(repo, number, body.state, body.merged === true);
        return { status: 200, body: pull };
      }
      case 'POST environments': {
        const repo = need('repo');
        if (!ctx.state.repo(repo)) ctx.state.addRepo(repo);
        return {
          status: 201,
          body: ctx.state.addEnvironment(repo, need('name'), body as AddEnvironmentOptions),
        };
      }
      case 'POST runs': {
        // A workflow run whose jobs may run under environments: GitHub's own job deployments appear.
        const repo = need('repo');
        if (!Array.isArray(body.jobs))
          throw new Error('"jobs" is required: [{ "name": "deploy", "environment": "production" }]');
        const run = ctx.state.startRun(repo, {
          ...(body as unknown as StartRunOptions),
          headSha: need('headSha'),
          actor: need('actor'),
          ...(body.runId !== undefined ? { runId: Number(need('runId')) } : {}),
        });
        return { status: 201, body: runSummary(run) };
      }
      case 'POST runs/bypass': {
        // An administrator started the waiting jobs past the rules: no approval is recorded.
        const repo = need('repo');
        const runId = Number(need('runId'));
        ctx.state.bypassRun(repo, runId, need('environment'));
        return { status: 200, body: runSummary(ctx.state.run(repo, runId)!) };
      }
      case 'POST tokens': {
        const permissions = body.permissions === 'read' ? 'read' : 'write';
        ctx.state.setToken(need('token'), {
          permissions,
          user: typeof body.user === 'string' ? body.user : undefined,
        });
        return { status: 201, body: { token: '***', permissions } };
      }
      default:
        return {
          status: 404,
          body: {
            message: `no control route ${route}`,
            routes: [
              'GET state',
              'GET requests',
              'POST repos',
              'POST pulls',
              'PATCH pulls',
              'POST environments',
              'POST runs',
              'POST runs/bypass',
              'POST tokens',
            ].map((r) => r.replace(' ', ` ${CONTROL_PREFIX}`)),
          },
        };
    }
  } catch (e) {
    return { status: 422, body: { message: (e as Error).message } };
  }
}

function runSummary(run: RunRecord): unknown {
  return {
    id: run.id,
    headSha: run.headSha,
    actor: run.actor.login,
    jobs: run.jobs.map((j) => ({
      id: j.id,
      name: j.name,
      environment: j.environment,
      status: j.status,
      deploymentId: j.deploymentId,
    })),
    approvals: run.approvals.length,
  };
}

function snapshot(state: GitHubState): unknown {
  const repos = [];
  for (const name of state.repoNames()) {
    const r = state.repo(name)!;
    repos.push({
      fullName: r.fullName,
      pulls: [...r.pulls.values()].map((p) => ({
        number: p.number,
        state: p.state,
        merged: p.merged,
        headSha: p.headSha,
        headRef: p.headRef,
      })),
      comments: [...r.pulls.keys()].map((n) => ({ issue: n, count: state.comments(name, n).length })),
      deployments: state
        .deployments(name)
        .map((d) => ({ id: d.id, environment: d.environment, sha: d.sha, state: d.latestState })),
    });
  }
  return { repos };
}
