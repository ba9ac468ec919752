// The HTTP side of the GitHub emulator: every request is matched against GitHub's OpenAPI
// description before any handler runs, so a client calling a route or sending a body GitHub would
// refuse fails here too; then auth, faults, and a handler per implemented operationId.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl } from './control.js';
import { loadGitHubSpec, type GitHubSpec, type Operation } from './openapi.js';
import { Renderer } from './render.js';
import {
  GitHubState,
  timestamp,
  type CommitRecord,
  type DeploymentRecord,
  type DeploymentState,
  type DeploymentStatusRecord,
  type EnvironmentRecord,
  type ReviewerSpec,
  type RepoRecord,
  type RunRecord,
  type UserRecord,
} from './state.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  status: number;
  body?: unknown;
  error?: string;
  operationId?: string;
  /** True when GitHub's OpenAPI description rejected it (unknown route, invalid params/body). */
  invalid?: boolean;
}

export interface GitHubEmulatorOptions {
  port?: number;
  /**
   * Check every response the emulator generates against the response schema documented for that
   * operation and status; mismatches are listed by responseProblems(). On by default: the
   * emulator's shapes are only worth trusting while they match GitHub's.
   */
  validateResponses?: boolean;
}

export interface GitHubEmulator {
  url: string;
  state: GitHubState;
  faults: {
    secondaryRateLimit(n: number, retryAfterSeconds?: number): void;
    serverError(n: number, status?: 500 | 502 | 503): void;
    /**
     * The next n requests matching `method` and `path` are served (their writes happen), then the
     * connection is destroyed instead of answering: a reply lost by a proxy or the network.
     */
    dropReply(n: number, match: { method: string; path: RegExp }): void;
  };
  requests: RecordedRequest[];
  invalidRequests(): RecordedRequest[];
  /** Responses that did not match the OpenAPI response schema (should always be empty). */
  responseProblems(): { operationId: string; status: number; problem: string }[];
  close(): Promise<void>;
}

interface Ctx {
  op: Operation;
  params: Record<string, unknown>;
  query: URLSearchParams;
  url: URL;
  body: unknown;
  repo: RepoRecord;
  user: UserRecord;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: Ctx) => Reply;

const DOCS = 'https://docs.github.com/rest';
const COMMENT_MAX = 65536;
const RATE_LIMIT = 5000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function notFound(docsUrl = DOCS): HttpError {
  return new HttpError(404, 'Not Found', { documentation_url: docsUrl });
}

function validationFailed(
  docsUrl: string,
  resource: string,
  field: string,
  message: string,
  code = 'custom',
): HttpError {
  return new HttpError(422, 'Validation Failed', {
    errors: [{ resource, code, field, message }],
    documentation_url: docsUrl,
  });
}

function errorBody(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { message, documentation_url: DOCS, ...extra, status: String(status) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const spec: GitHubSpec = loadGitHubSpec();
  const state = new GitHubState();
  const requests: RecordedRequest[] = [];
  const problems: { operationId: string; status: number; problem: string }[] = [];
  const validateResponses = opts.validateResponses ?? true;
  const dropReplies: { remaining: number; method: string; path: RegExp }[] = [];
  const faultQueue = { secondary: 0, retryAfter: 60, serverErrors: 0, serverStatus: 500 as 500 | 502 | 503 };
  let used = 0;
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  let render = new Renderer('http://127.0.0.1');
  let baseUrl = '';

  const handlers = buildHandlers(
    state,
    () => render,
    () => baseUrl,
    () => ({ used, resetAt }),
  );

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const control = handleControl(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, raw, {
        state,
        requests: () => requests,
      });
      if (control) {
        send(res, control.status, control.body);
        return;
      }
      let rec: RecordedRequest;
      try {
        rec = handle(req, raw, res);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        rec = {
          method: req.method ?? '',
          path: req.url ?? '',
          query: '',
          status: 500,
          error: `emulator crashed: ${message}`,
        };
        send(res, 500, errorBody(500, `GitHub emulator crashed: ${message}`));
      }
      requests.push(rec);
    });
  });

  function rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - used)),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
    };
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const all: Record<string, string> = {
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': `EMU:${requests.length + 1}`,
      ...rateHeaders(),
      ...headers,
    };
    if (body === undefined) {
      res.writeHead(status, all);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...all,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  function handle(req: IncomingMessage, raw: string, res: ServerResponse): RecordedRequest {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseUrl);
    const rec: RecordedRequest = { method, path: url.pathname, query: url.search, status: 0 };
    const reply = (
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
      error?: string,
    ): RecordedRequest => {
      rec.status = status;
      if (error !== undefined) rec.error = error;
      const drop = dropReplies.find(
        (d) => d.remaining > 0 && d.method === method && d.path.test(url.pathname),
      );
      if (drop) {
        drop.remaining--;
        rec.error = 'reply dropped (injected)';
        res.socket?.destroy();
        return rec;
      }
      send(res, status, body, headers);
      return rec;
    };
    // GET /rate_limit does not count against the limit on GitHub.
    if (url.pathname !== '/rate_limit') used++;

    // Faults first: GitHub's abuse detection and outages do not care whether the request is valid.
    if (faultQueue.secondary > 0) {
      faultQueue.secondary--;
      const message =
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID EMU.';
      return reply(
        403,
        {
          message,
          documentation_url:
            'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: '403',
        },
        { 'retry-after': String(faultQueue.retryAfter) },
        'injected secondary rate limit',
      );
    }
    if (faultQueue.serverErrors > 0) {
      faultQueue.serverErrors--;
      const s = faultQueue.serverStatus;
      return reply(
        s,
        errorBody(
          s,
          s === 502 ? 'Server Error' : s === 503 ? 'Service Unavailable' : 'Internal Server Error',
        ),
        {},
        `injected ${s}`,
      );
    }

    const { match } = spec.match(method, url.pathname);
    if (!match) {
      rec.invalid = true;
      return reply(
        404,
        errorBody(404, 'Not Found'),
        {},
        `no operation in GitHub's OpenAPI description for ${method} ${url.pathname}`,
      );
    }
    const op = match.operation;
    rec.operationId = op.operationId;

    // Auth: anonymous reads of a public repo are allowed; writes need a token.
    const auth = req.headers.authorization ?? '';
    const tokenMatch = /^(?:token|bearer)\s+(\S+)$/i.exec(auth);
    const isWrite = method !== 'GET' && method !== 'HEAD';
    if (!tokenMatch && isWrite && auth === '') {
      const msg = 'Requires authentication';
      return reply(401, errorBody(401, msg, { documentation_url: op.docsUrl }), {}, msg);
    }
    const token = tokenMatch?.[1] !== undefined ? state.token(tokenMatch[1]) : undefined;
    if (auth !== '' && !token) {
      // GitHub's answer to a token it does not know (typo, expired, revoked): a generic docs link.
      return reply(401, errorBody(401, 'Bad credentials'), {}, 'Bad credentials');
    }

    // OpenAPI check: parameters, then body.
    const checked = spec.validateParams(op, match.pathParams, url.searchParams);
    if (checked.problem) {
      rec.invalid = true;
      return reply(
        422,
        errorBody(422, `Invalid request.\n\n${checked.problem}`, { documentation_url: op.docsUrl }),
        {},
        checked.problem,
      );
    }
    let body: unknown;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        rec.invalid = true;
        return reply(
          400,
          errorBody(400, 'Problems parsing JSON', { documentation_url: op.docsUrl }),
          {},
          'body is not JSON',
        );
      }
      rec.body = body;
    }
    const bodyProblem = spec.validateBody(op, body);
    if (bodyProblem) {
      rec.invalid = true;
      return reply(
        422,
        errorBody(422, `Invalid request.\n\n${bodyProblem}`, { documentation_url: op.docsUrl }),
        {},
        bodyProblem,
      );
    }

    const handler = handlers[op.operationId];
    if (!handler) {
      const msg = `GitHub emulator: ${op.operationId} (${method} ${op.pathTemplate}) is in GitHub's API but not implemented by test/emulators/github`;
      return reply(501, errorBody(501, msg), {}, msg);
    }

    const owner = str(checked.values['owner']);
    const repoName = str(checked.values['repo']);
    let repo: RepoRecord | undefined;
    if (owner !== undefined && repoName !== undefined) {
      repo = state.repo(`${owner}/${repoName}`);
      if (!repo)
        return reply(
          404,
          errorBody(404, 'Not Found', { documentation_url: op.docsUrl }),
          {},
          `repo ${owner}/${repoName} not seeded`,
        );
      if (isWrite && token?.permissions === 'read') {
        const msg = 'Resource not accessible by integration';
        return reply(403, errorBody(403, msg, { documentation_url: op.docsUrl }), {}, msg);
      }
    }

    let out: Reply;
    try {
      out = handler({
        op,
        params: checked.values,
        query: url.searchParams,
        url,
        body,
        // Handlers for repo-less operations (rate_limit) never read it.
        repo: repo as RepoRecord,
        user: token?.user ?? state.defaultToken.user,
      });
    } catch (err) {
      if (err instanceof HttpError) {
        const b = { documentation_url: op.docsUrl, ...err.extra };
        return reply(err.status, errorBody(err.status, err.message, b), {}, err.message);
      }
      throw err;
    }
    if (validateResponses) {
      const problem = spec.validateResponse(op, out.status, out.body);
      if (problem) problems.push({ operationId: op.operationId, status: out.status, problem });
    }
    return reply(out.status, out.body, out.headers);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  render = new Renderer(baseUrl);

  return {
    url: baseUrl,
    state,
    faults: {
      secondaryRateLimit(n: number, retryAfterSeconds = 60): void {
        faultQueue.secondary += n;
        faultQueue.retryAfter = retryAfterSeconds;
      },
      serverError(n: number, status: 500 | 502 | 503 = 500): void {
        faultQueue.serverErrors += n;
        faultQueue.serverStatus = status;
      },
      dropReply(n: number, match: { method: string; path: RegExp }): void {
        if (n > 0) dropReplies.push({ remaining: n, ...match });
      },
    },
    requests,
    invalidRequests: () => requests.filter((r) => r.invalid === true),
    responseProblems: () => [...problems],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** per_page (default 30, max 100) and page, with RFC 5988 Link headers on the emulator's own URL. */
function paginate<T>(items: T[], ctx: Ctx, baseUrl: string): { page: T[]; headers: Record<string, string> } {
  const perRaw = typeof ctx.params['per_page'] === 'number' ? ctx.params['per_page'] : 30;
  const perPage = Math.min(100, Math.max(1, perRaw));
  const pageRaw = typeof ctx.params['page'] === 'number' ? ctx.params['page'] : 1;
  const page = Math.max(1, pageRaw);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const headers: Record<string, string> = {};
  if (items.length > perPage) {
    const link = (p: number, rel: string): string => {
      const q = new URLSearchParams(ctx.url.searchParams);
      q.set('page', String(p));
      if (q.has('per_page')) q.set('per_page', String(perPage));
      return `<${baseUrl}${ctx.url.pathname}?${q.toString()}>; rel="${rel}"`;
    };
    const parts: string[] = [];
    if (page > 1) parts.push(link(Math.min(page - 1, last), 'prev'));
    if (page < last) parts.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) parts.push(link(1, 'first'));
    if (parts.length > 0) headers['link'] = parts.join(', ');
  }
  return { page: slice, headers };
}

function buildHandlers(
  state: GitHubState,
  r: () => Renderer,
  base: () => string,
  usage: () => { used: number; resetAt: number },
): Record<string, Handler> {
  const issueExists = (ctx: Ctx, n: number): void => {
    if (!ctx.repo.issues.has(n)) throw notFound(ctx.op.docsUrl);
  };
  const findComment = (ctx: Ctx): { index: number } => {
    const id = Number(ctx.params['comment_id']);
    const index = ctx.repo.comments.findIndex((c) => c.id === id);
    if (index < 0) throw notFound(ctx.op.docsUrl);
    return { index };
  };
  const checkCommentBody = (ctx: Ctx, body: string): void => {
    // GitHub counts characters, not bytes or UTF-16 units.
    if ([...body].length > COMMENT_MAX) {
      throw validationFailed(
        ctx.op.docsUrl,
        'IssueComment',
        'body',
        `body is too long (maximum is ${COMMENT_MAX} characters)`,
      );
    }
  };
  const headRepoOf = (ctx: Ctx, fullName: string): RepoRecord =>
    state.repo(fullName) ?? state.addRepo(fullName, { defaultBranch: ctx.repo.defaultBranch });
  const findDeployment = (ctx: Ctx): DeploymentRecord => {
    const id = Number(ctx.params['deployment_id']);
    const d = ctx.repo.deployments.find((x) => x.id === id);
    if (!d) throw notFound(ctx.op.docsUrl);
    return d;
  };
  const envName = (ctx: Ctx): string => String(ctx.params['environment_name']);
  const findRun = (ctx: Ctx): RunRecord => {
    const run = ctx.repo.runs.get(Number(ctx.params['run_id']));
    if (!run) throw notFound(ctx.op.docsUrl);
    return run;
  };
  /** Environments this run's jobs are waiting on (each once), in job order. */
  const waitingEnvironments = (ctx: Ctx, run: RunRecord): EnvironmentRecord[] => {
    const out: EnvironmentRecord[] = [];
    for (const j of run.jobs) {
      if (j.status !== 'waiting' || j.environment === undefined) continue;
      const e = state.environment(ctx.repo.fullName, j.environment);
      if (e && !out.includes(e)) out.push(e);
    }
    return out;
  };
  const selfReviewBlocked = (e: EnvironmentRecord, run: RunRecord, user: UserRecord): boolean =>
    e.preventSelfReview && run.actor.id === user.id;
  // The environment-rule messages GitHub words as "Failed to create or update the environment
  // protection rule. …" (the prevent_self_review one is quoted from github-community-projects/
  // safe-settings#628; the others follow the same form and are ours).
  const ruleError = (ctx: Ctx, why: string): HttpError =>
    new HttpError(422, `Failed to create or update the environment protection rule. ${why}`, {
      documentation_url: ctx.op.docsUrl,
    });

  return {
    'repos/get': (ctx) => {
      const open = [...ctx.repo.pulls.values()].filter((p) => p.state === 'open').length;
      return { status: 200, body: r().repo(ctx.repo, open) };
    },

    'issues/list-comments': (ctx) => {
      const n = Number(ctx.params['issue_number']);
      issueExists(ctx, n);
      const since = str(ctx.params['since']);
      let list = ctx.repo.comments.filter((c) => c.issueNumber === n);
      if (since !== undefined) list = list.filter((c) => c.updatedAt >= timestamp(new Date(since)));
      const { page, headers } = paginate(list, ctx, base());
      return { status: 200, body: page.map((c) => r().comment(ctx.repo, c)), headers };
    },
    'issues/create-comment': (ctx) => {
      const n = Number(ctx.params['issue_number']);
      issueExists(ctx, n);
      const body = String((ctx.body as { body: string }).body);
      checkCommentBody(ctx, body);
      const c = state.createComment(ctx.repo, n, body, ctx.user);
      const out = r().comment(ctx.repo, c);
      return { status: 201, body: out, headers: { location: String(out['url']) } };
    },
    'issues/get-comment': (ctx) => {
      const { index } = findComment(ctx);
      return { status: 200, body: r().comment(ctx.repo, ctx.repo.comments[index]!) };
    },
    'issues/update-comment': (ctx) => {
      const { index } = findComment(ctx);
      const body = String((ctx.body as { body: string }).body);
      checkCommentBody(ctx, body);
      const c = ctx.repo.comments[index]!;
      c.body = body;
      c.updatedAt = timestamp();
      return { status: 200, body: r().comment(ctx.repo, c) };
    },
    'issues/delete-comment': (ctx) => {
      const { index } = findComment(ctx);
      ctx.repo.comments.splice(index, 1);
      return { status: 204 };
    },

    'pulls/get': (ctx) => {
      const p = ctx.repo.pulls.get(Number(ctx.params['pull_number']));
      if (!p) throw notFound(ctx.op.docsUrl);
      const comments = ctx.repo.comments.filter((c) => c.issueNumber === p.number).length;
      return {
        status: 200,
        body: r().pull(ctx.repo, p, headRepoOf(ctx, p.headRepoFullName), true, comments),
      };
    },
    'pulls/list': (ctx) => {
      const st = str(ctx.params['state']) ?? 'open';
      const head = str(ctx.params['head']);
      const baseRef = str(ctx.params['base']);
      const sort = str(ctx.params['sort']) ?? 'created';
      const direction = str(ctx.params['direction']) ?? (sort === 'created' ? 'desc' : 'asc');
      let list = [...ctx.repo.pulls.values()].filter((p) => st === 'all' || p.state === st);
      if (head !== undefined) {
        // `user:ref`; GitHub also accepts a bare ref, meaning the repo owner's branch.
        const [who, ref] = head.includes(':')
          ? [head.slice(0, head.indexOf(':')), head.slice(head.indexOf(':') + 1)]
          : [ctx.repo.owner.login, head];
        list = list.filter(
          (p) => p.headRef === ref && p.headRepoFullName.split('/')[0]?.toLowerCase() === who.toLowerCase(),
        );
      }
      if (baseRef !== undefined) list = list.filter((p) => p.baseRef === baseRef);
      const key = sort === 'updated' ? 'updatedAt' : 'createdAt';
      list.sort((a, b) => (a[key] === b[key] ? a.id - b.id : a[key] < b[key] ? -1 : 1));
      if (direction === 'desc') list.reverse();
      const { page, headers } = paginate(list, ctx, base());
      return {
        status: 200,
        body: page.map((p) => r().pull(ctx.repo, p, headRepoOf(ctx, p.headRepoFullName), false)),
        headers,
      };
    },
    'repos/list-pull-requests-associated-with-commit': (ctx) => {
      const sha = String(ctx.params['commit_sha']);
      const full = state.resolveRef(ctx.repo, sha) ?? sha;
      // As on GitHub, a commit that exists only in a fork is not found in the base repository, so
      // a fork PR's head commit lists nothing here (clients must look the PR up by branch instead).
      const inThisRepo = (p: { headRepoFullName: string }) =>
        p.headRepoFullName.toLowerCase() === ctx.repo.fullName.toLowerCase();
      const list = [...ctx.repo.pulls.values()]
        .filter((p) => (p.headSha === full && inThisRepo(p)) || p.mergeCommitSha === full)
        .sort((a, b) => b.number - a.number);
      const { page, headers } = paginate(list, ctx, base());
      return {
        status: 200,
        body: page.map((p) => r().pull(ctx.repo, p, headRepoOf(ctx, p.headRepoFullName), false)),
        headers,
      };
    },

    'repos/create-deployment': (ctx) => {
      const b = ctx.body as {
        ref: string;
        task?: string;
        payload?: Record<string, unknown> | string;
        environment?: string;
        description?: string | null;
        transient_environment?: boolean;
        production_environment?: boolean;
      };
      const sha = state.resolveRef(ctx.repo, b.ref);
      if (!sha) throw new HttpError(422, `No ref found for: ${b.ref}`);
      const environment = b.environment ?? 'production';
      const now = timestamp();
      const d: DeploymentRecord = {
        id: state.id(),
        sha,
        ref: b.ref,
        task: b.task ?? 'deploy',
        payload: b.payload ?? {},
        environment,
        originalEnvironment: environment,
        description: b.description === undefined ? '' : b.description,
        transientEnvironment: b.transient_environment ?? false,
        productionEnvironment: b.production_environment ?? environment === 'production',
        creator: ctx.user,
        createdAt: now,
        updatedAt: now,
      };
      ctx.repo.deployments.push(d);
      // Deploying to an environment that does not exist yet creates it, as on GitHub.
      if (!state.environment(ctx.repo.fullName, environment))
        state.addEnvironment(ctx.repo.fullName, environment);
      const out = r().deployment(ctx.repo, d);
      return { status: 201, body: out, headers: { location: String(out['url']) } };
    },
    'repos/list-deployments': (ctx) => {
      const f = (k: string): string | undefined => str(ctx.params[k]);
      const list = ctx.repo.deployments
        .filter(
          (d) =>
            (f('sha') === undefined || d.sha === f('sha')) &&
            (f('ref') === undefined || d.ref === f('ref')) &&
            (f('task') === undefined || d.task === f('task')) &&
            (f('environment') === undefined || d.environment === f('environment')),
        )
        .reverse(); // newest first
      const { page, headers } = paginate(list, ctx, base());
      return { status: 200, body: page.map((d) => r().deployment(ctx.repo, d)), headers };
    },
    'repos/get-deployment': (ctx) => ({ status: 200, body: r().deployment(ctx.repo, findDeployment(ctx)) }),
    'repos/delete-deployment': (ctx) => {
      const d = findDeployment(ctx);
      const latest = state.latestStatus(ctx.repo, d.id);
      if (ctx.repo.deployments.length > 1 && latest?.state !== 'inactive') {
        throw new HttpError(
          422,
          'We cannot delete an active deployment unless it is the only deployment in a given environment.',
        );
      }
      ctx.repo.deployments = ctx.repo.deployments.filter((x) => x.id !== d.id);
      ctx.repo.statuses = ctx.repo.statuses.filter((s) => s.deploymentId !== d.id);
      return { status: 204 };
    },
    'repos/create-deployment-status': (ctx) => {
      const d = findDeployment(ctx);
      const b = ctx.body as {
        state: DeploymentState;
        target_url?: string;
        log_url?: string;
        description?: string;
        environment?: string;
        environment_url?: string;
        auto_inactive?: boolean;
      };
      const description = b.description ?? '';
      if ([...description].length > 140) {
        throw validationFailed(
          ctx.op.docsUrl,
          'DeploymentStatus',
          'description',
          'description is too long (maximum is 140 characters)',
        );
      }
      const prev = state.latestStatus(ctx.repo, d.id);
      const environment = b.environment ?? prev?.environment ?? d.environment;
      // log_url replaces target_url; setting one sets the other.
      const logUrl = b.log_url ?? b.target_url ?? '';
      const now = timestamp();
      const s: DeploymentStatusRecord = {
        id: state.id(),
        deploymentId: d.id,
        state: b.state,
        description,
        environment,
        targetUrl: logUrl,
        logUrl,
        environmentUrl: b.environment_url ?? '',
        creator: ctx.user,
        createdAt: now,
        updatedAt: now,
      };
      ctx.repo.statuses.push(s);
      d.updatedAt = now;
      if (b.environment !== undefined) d.environment = b.environment;
      // The documented auto_inactive rule: a new success status adds an `inactive` status to all
      // prior non-transient, non-production deployments with the same repository and environment
      // that had a `success` state. Transient (preview) and production deployments are left alone.
      if (b.state === 'success' && b.auto_inactive !== false) {
        for (const other of ctx.repo.deployments) {
          if (other.id >= d.id || other.transientEnvironment || other.productionEnvironment) continue;
          if (other.environment !== environment) continue;
          const last = state.latestStatus(ctx.repo, other.id);
          if (last?.state !== 'success') continue;
          ctx.repo.statuses.push({
            ...last,
            id: state.id(),
            state: 'inactive',
            description: '',
            creator: ctx.user,
            createdAt: now,
            updatedAt: now,
          });
          other.updatedAt = now;
        }
      }
      const out = r().deploymentStatus(ctx.repo, s);
      return { status: 201, body: out, headers: { location: String(out['url']) } };
    },
    'repos/list-deployment-statuses': (ctx) => {
      const d = findDeployment(ctx);
      const list = ctx.repo.statuses.filter((s) => s.deploymentId === d.id).reverse();
      const { page, headers } = paginate(list, ctx, base());
      return { status: 200, body: page.map((s) => r().deploymentStatus(ctx.repo, s)), headers };
    },
    'repos/get-deployment-status': (ctx) => {
      const d = findDeployment(ctx);
      const id = Number(ctx.params['status_id']);
      const s = ctx.repo.statuses.find((x) => x.deploymentId === d.id && x.id === id);
      if (!s) throw notFound(ctx.op.docsUrl);
      return { status: 200, body: r().deploymentStatus(ctx.repo, s) };
    },

    'repos/get-all-environments': (ctx) => {
      const all = [...ctx.repo.environments].sort((a, b) => a.name.localeCompare(b.name));
      const { page, headers } = paginate(all, ctx, base());
      return {
        status: 200,
        body: { total_count: all.length, environments: page.map((e) => r().environment(ctx.repo, e)) },
        headers,
      };
    },
    'repos/get-environment': (ctx) => {
      const e = state.environment(ctx.repo.fullName, envName(ctx));
      if (!e) throw notFound(ctx.op.docsUrl);
      return { status: 200, body: r().environment(ctx.repo, e) };
    },

    'repos/create-or-update-environment': (ctx) => {
      const name = envName(ctx);
      const b = (ctx.body ?? {}) as {
        wait_timer?: number;
        prevent_self_review?: boolean;
        can_admins_bypass?: boolean;
        reviewers?: { type?: 'User' | 'Team'; id?: number }[] | null;
        deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
      };
      if ([...name].length > 255 || /[,'"*]/.test(name) || name.trim() === '')
        throw new HttpError(422, `Invalid environment name: ${JSON.stringify(name)}`, {
          documentation_url: ctx.op.docsUrl,
        });
      const existing = state.environment(ctx.repo.fullName, name);
      if (b.wait_timer !== undefined && (b.wait_timer < 0 || b.wait_timer > 43200))
        throw ruleError(ctx, 'Wait timer must be between 0 and 43200 minutes.');
      const policy = b.deployment_branch_policy;
      if (policy && policy.protected_branches === policy.custom_branch_policies)
        throw ruleError(
          ctx,
          'Deployment branch policy: exactly one of protected_branches and custom_branch_policies must be true.',
        );
      let reviewers: ReviewerSpec[] | undefined;
      if (b.reviewers !== undefined) {
        const list = b.reviewers ?? [];
        if (list.length > 6) throw ruleError(ctx, 'Required reviewers can have at most 6 reviewers.');
        reviewers = list.map((r) => {
          const id = Number(r.id);
          if (r.type === 'Team') {
            const team = state.teamById(id);
            if (!team) throw ruleError(ctx, `Required reviewers: no team with id ${id}.`);
            return { type: 'Team', slug: team.slug };
          }
          const user = state.userById(id);
          if (!user) throw ruleError(ctx, `Required reviewers: no user with id ${id}.`);
          return { type: 'User', login: user.login };
        });
      }
      // What the body leaves out stays as it was.
      const keptReviewers: ReviewerSpec[] = (existing?.reviewers ?? []).map((r) =>
        r.type === 'User' ? { type: 'User', login: r.user.login } : { type: 'Team', slug: r.slug },
      );
      const finalReviewers = reviewers ?? keptReviewers;
      const preventSelfReview = b.prevent_self_review ?? existing?.preventSelfReview ?? false;
      if (preventSelfReview && finalReviewers.length === 0)
        throw ruleError(
          ctx,
          'Required reviewers must have at least one reviewer to set prevent_self_review.',
        );
      const e = state.addEnvironment(ctx.repo.fullName, existing?.name ?? name, {
        reviewers: finalReviewers,
        preventSelfReview,
        waitTimer: b.wait_timer ?? existing?.waitTimer ?? 0,
        branchPolicy: policy === undefined ? (existing?.branchPolicy ?? null) : policy,
        canAdminsBypass: b.can_admins_bypass ?? existing?.canAdminsBypass ?? true,
      });
      return { status: 200, body: r().environment(ctx.repo, e) };
    },

    'actions/get-pending-deployments-for-run': (ctx) => {
      const run = findRun(ctx);
      const body = waitingEnvironments(ctx, run).map((e) =>
        r().pendingDeployment(
          ctx.repo,
          e,
          run.createdAt,
          state.isReviewer(e, ctx.user) && !selfReviewBlocked(e, run, ctx.user),
        ),
      );
      return { status: 200, body };
    },
    'actions/review-pending-deployments-for-run': (ctx) => {
      const run = findRun(ctx);
      const b = ctx.body as { environment_ids: number[]; state: 'approved' | 'rejected'; comment: string };
      const waiting = waitingEnvironments(ctx, run);
      const envs: EnvironmentRecord[] = [];
      for (const id of b.environment_ids) {
        const e = waiting.find((x) => x.id === id);
        if (!e)
          throw new HttpError(
            422,
            `No pending deployment for environment id ${id} in workflow run ${run.id}: only ${
              waiting.map((x) => `${x.name} (${x.id})`).join(', ') || 'none'
            } ${waiting.length === 1 ? 'is' : 'are'} waiting.`,
          );
        if (!state.isReviewer(e, ctx.user))
          throw new HttpError(
            422,
            `${ctx.user.login} is not a required reviewer of the environment ${e.name}, so cannot review its deployment.`,
          );
        if (selfReviewBlocked(e, run, ctx.user))
          throw new HttpError(
            422,
            `${ctx.user.login} triggered workflow run ${run.id} and the environment ${e.name} prevents self-review.`,
          );
        if (!envs.includes(e)) envs.push(e);
      }
      if (envs.length === 0) throw new HttpError(422, 'environment_ids is empty.');
      run.approvals.push({
        environmentIds: envs.map((e) => e.id),
        state: b.state,
        user: ctx.user,
        comment: b.comment,
        createdAt: timestamp(),
      });
      const moved: DeploymentRecord[] = [];
      for (const j of run.jobs) {
        if (j.status !== 'waiting' || !envs.some((e) => e.name === j.environment)) continue;
        if (b.state === 'approved') state.startJob(ctx.repo, run, j);
        else {
          j.status = 'completed';
          j.conclusion = 'failure';
          state.addJobStatus(ctx.repo, run, j, 'failure');
        }
        const d = ctx.repo.deployments.find((x) => x.id === j.deploymentId);
        if (d) moved.push(d);
      }
      return { status: 200, body: moved.map((d) => r().deployment(ctx.repo, d)) };
    },
    'actions/get-reviews-for-run': (ctx) => {
      const run = findRun(ctx);
      const body = run.approvals.map((a) =>
        r().approval(
          ctx.repo,
          a,
          a.environmentIds
            .map((id) => ctx.repo.environments.find((e) => e.id === id))
            .filter((e): e is EnvironmentRecord => e !== undefined),
        ),
      );
      return { status: 200, body };
    },

    'repos/compare-commits-with-basehead': (ctx) => {
      const basehead = String(ctx.params['basehead']);
      const sep = basehead.indexOf('...');
      if (sep < 0) throw notFound(ctx.op.docsUrl);
      const strip = (x: string): string => (x.includes(':') ? x.slice(x.indexOf(':') + 1) : x);
      const baseSha = state.resolveRef(ctx.repo, strip(basehead.slice(0, sep)));
      const headSha = state.resolveRef(ctx.repo, strip(basehead.slice(sep + 3)));
      if (!baseSha || !headSha) throw notFound(ctx.op.docsUrl);
      const ancestors = (sha: string): Set<string> => {
        const seen = new Set<string>();
        const stack = [sha];
        while (stack.length > 0) {
          const s = stack.pop()!;
          if (seen.has(s)) continue;
          seen.add(s);
          for (const p of ctx.repo.commits.get(s)?.parents ?? []) stack.push(p);
        }
        return seen;
      };
      const fromBase = ancestors(baseSha);
      const fromHead = ancestors(headSha);
      const ahead = [...fromHead].filter((s) => !fromBase.has(s));
      const behind = [...fromBase].filter((s) => !fromHead.has(s));
      const commitOf = (sha: string): CommitRecord =>
        ctx.repo.commits.get(sha) ?? {
          sha,
          parents: [],
          message: '',
          author: { name: 'unknown', email: 'unknown@example.com', date: timestamp() },
        };
      // Merge base: the common ancestor reached first walking back from head (linear histories: exact).
      const mergeBase = [...fromHead].find((s) => fromBase.has(s)) ?? baseSha;
      const status =
        ahead.length === 0 && behind.length === 0
          ? 'identical'
          : behind.length === 0
            ? 'ahead'
            : ahead.length === 0
              ? 'behind'
              : 'diverged';
      // Oldest first, like GitHub: order by author date then by position.
      const commits = ahead
        .map(commitOf)
        .sort((a, b) => (a.author.date < b.author.date ? -1 : a.author.date > b.author.date ? 1 : 0));
      const u = r().repoUrl(ctx.repo);
      const html = `https://github.com/${ctx.repo.fullName}/compare/${basehead}`;
      const { page, headers } = paginate(commits, ctx, base());
      return {
        status: 200,
        headers,
        body: {
          url: `${u}/compare/${basehead}`,
          html_url: html,
          permalink_url: `https://github.com/${ctx.repo.fullName}/compare/${ctx.repo.owner.login}:${baseSha}...${ctx.repo.owner.login}:${headSha}`,
          diff_url: `${html}.diff`,
          patch_url: `${html}.patch`,
          base_commit: r().commit(ctx.repo, commitOf(baseSha)),
          merge_base_commit: r().commit(ctx.repo, commitOf(mergeBase)),
          status,
          ahead_by: ahead.length,
          behind_by: behind.length,
          total_commits: ahead.length,
          commits: page.map((c) => r().commit(ctx.repo, c)),
          files: [],
        },
      };
    },

    'rate-limit/get': () => {
      // Octokit's throttling reads the headers; this body mirrors them for the core resource.
      const { used, resetAt: reset } = usage();
      const core = { limit: RATE_LIMIT, used, remaining: Math.max(0, RATE_LIMIT - used), reset };
      const other = (limit: number): Record<string, number> => ({ limit, used: 0, remaining: limit, reset });
      return {
        status: 200,
        body: {
          resources: {
            core,
            graphql: other(5000),
            search: other(30),
            integration_manifest: other(5000),
            code_search: other(10),
          },
          rate: core,
        },
      };
    },
  };
}
