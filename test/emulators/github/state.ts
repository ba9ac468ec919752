// In-memory GitHub: repositories with their pulls, issue comments, deployments (+ statuses),
// environments, commit history and the tokens that may call the API. Tests seed it and read it
// back; the server renders these records into GitHub's JSON shapes.
import { createHash } from 'node:crypto';

export type UserType = 'User' | 'Bot' | 'Organization';

export interface UserRecord {
  login: string;
  id: number;
  type: UserType;
}

export interface PullRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  merged: boolean;
  user: UserRecord;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  /** owner/name the head branch lives in — differs from the repo for a fork PR. */
  headRepoFullName: string;
  draft: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  /** Label names, in the order they were added. */
  labels: string[];
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  body: string;
  user: UserRecord;
  createdAt: string;
  updatedAt: string;
}

export interface DeploymentRecord {
  id: number;
  sha: string;
  ref: string;
  task: string;
  payload: Record<string, unknown> | string;
  environment: string;
  originalEnvironment: string;
  description: string | null;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  creator: UserRecord;
  /** True for the deployments GitHub Actions makes for a job under `environment:`. */
  viaActions?: boolean;
  createdAt: string;
  updatedAt: string;
}

export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/** `waiting` is not in the OpenAPI enum, but GitHub writes it for a job held by required reviewers. */
export type StatusState = DeploymentState | 'waiting';

export interface DeploymentStatusRecord {
  id: number;
  deploymentId: number;
  state: StatusState;
  description: string;
  environment: string;
  targetUrl: string;
  logUrl: string;
  environmentUrl: string;
  creator: UserRecord;
  createdAt: string;
  updatedAt: string;
}

export type ReviewerSpec =
  | string
  | { type: 'User'; login: string }
  | {
      type: 'Team';
      slug: string;
      /** Logins that belong to the team (may approve for it). */ members?: string[];
    };

export interface BranchPolicy {
  protected_branches: boolean;
  custom_branch_policies: boolean;
}

export interface EnvironmentRecord {
  id: number;
  name: string;
  reviewers: ({ type: 'User'; user: UserRecord } | { type: 'Team'; slug: string; id: number })[];
  preventSelfReview: boolean;
  waitTimer: number;
  branchPolicy: BranchPolicy | null;
  /** "Allow administrators to bypass configured protection rules" (on by default on GitHub). */
  canAdminsBypass: boolean;
  ruleIds: { reviewers: number; waitTimer: number; branchPolicy: number };
  createdAt: string;
  updatedAt: string;
}

export interface TeamRecord {
  id: number;
  slug: string;
  /** Lower-cased logins of the members. */
  members: Set<string>;
}

/** One job of a workflow run; `environment` is its `environment:` key. */
export interface JobRecord {
  id: number;
  name: string;
  environment?: string;
  /** The deployment GitHub made for the job (only when it has an environment). */
  deploymentId?: number;
  status: 'waiting' | 'queued' | 'in_progress' | 'completed';
  conclusion?: 'failure';
}

/** An entry of GET /actions/runs/{run_id}/approvals. */
export interface ApprovalRecord {
  environmentIds: number[];
  state: 'approved' | 'rejected';
  user: UserRecord;
  comment: string;
  createdAt: string;
}

export interface RunRecord {
  id: number;
  headSha: string;
  headBranch: string;
  actor: UserRecord;
  createdAt: string;
  jobs: JobRecord[];
  approvals: ApprovalRecord[];
}

export interface StartRunOptions {
  runId?: number;
  headSha: string;
  /** Branch the run is for; the deployment's `ref`. Default: the repository's default branch. */
  headBranch?: string;
  jobs: { name: string; environment?: string }[];
  /** Who triggered the run (github.actor); GitHub makes the job deployments in their name. */
  actor: string;
}

export interface CommitRecord {
  sha: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
}

export interface CommitSpec {
  sha: string;
  parents?: string[];
  message?: string;
  author?: { name: string; email: string; date?: string };
}

export interface RepoRecord {
  id: number;
  owner: UserRecord;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  createdAt: string;
  pulls: Map<number, PullRecord>;
  /** Issue numbers that exist (every pull is also an issue). */
  issues: Map<number, { title: string; createdAt: string }>;
  comments: CommentRecord[];
  deployments: DeploymentRecord[];
  statuses: DeploymentStatusRecord[];
  environments: EnvironmentRecord[];
  commits: Map<string, CommitRecord>;
  branches: Map<string, string>;
  runs: Map<number, RunRecord>;
}

export interface TokenRecord {
  permissions: 'write' | 'read';
  user: UserRecord;
}

export interface AddPullOptions {
  repo: string;
  number: number;
  headSha: string;
  headRef: string;
  baseRef?: string;
  baseSha?: string;
  title?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  merged?: boolean;
  user?: string;
  headRepoFullName?: string;
  draft?: boolean;
  labels?: string[];
}

export interface AddEnvironmentOptions {
  reviewers?: ReviewerSpec[];
  preventSelfReview?: boolean;
  waitTimer?: number;
  branchPolicy?: BranchPolicy | null;
  canAdminsBypass?: boolean;
}

/** GitHub's timestamps carry whole seconds. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

const KNOWN_USERS: Record<string, UserRecord> = {
  'github-actions[bot]': { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
  octocat: { login: 'octocat', id: 583231, type: 'User' },
};

export class GitHubState {
  private readonly repos = new Map<string, RepoRecord>();
  private readonly users = new Map<string, UserRecord>(Object.entries(KNOWN_USERS));
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly teams = new Map<string, TeamRecord>();
  private nextId = 1_000_000;
  /** The user anonymous reads are attributed to (handlers need one); unknown tokens get 401. */
  defaultToken: TokenRecord = { permissions: 'write', user: KNOWN_USERS['github-actions[bot]']! };

  id(): number {
    return this.nextId++;
  }

  user(login: string, type?: UserType): UserRecord {
    let u = this.users.get(login.toLowerCase());
    if (!u) {
      u = { login, id: this.id(), type: type ?? (login.endsWith('[bot]') ? 'Bot' : 'User') };
      this.users.set(login.toLowerCase(), u);
    }
    return u;
  }

  /** A user seen before, by numeric id (the environments API names reviewers by id). */
  userById(id: number): UserRecord | undefined {
    return [...this.users.values()].find((u) => u.id === id);
  }

  /** A team of `org` (created on first use), for reviewers of type Team. */
  team(org: string, slug: string): TeamRecord {
    const key = `${org.toLowerCase()}/${slug.toLowerCase()}`;
    let t = this.teams.get(key);
    if (!t) {
      t = { id: this.id(), slug, members: new Set() };
      this.teams.set(key, t);
    }
    return t;
  }

  teamById(id: number): TeamRecord | undefined {
    return [...this.teams.values()].find((t) => t.id === id);
  }

  addRepo(fullName: string, opts: { defaultBranch?: string; private?: boolean } = {}): RepoRecord {
    const existing = this.repos.get(fullName.toLowerCase());
    if (existing) return existing;
    const [owner, name, extra] = fullName.split('/');
    if (!owner || !name || extra !== undefined) throw new Error(`addRepo: "${fullName}" is not owner/name`);
    const repo: RepoRecord = {
      id: this.id(),
      owner: this.user(owner),
      name,
      fullName,
      private: opts.private ?? false,
      defaultBranch: opts.defaultBranch ?? 'main',
      createdAt: timestamp(),
      pulls: new Map(),
      issues: new Map(),
      comments: [],
      deployments: [],
      statuses: [],
      environments: [],
      commits: new Map(),
      branches: new Map(),
      runs: new Map(),
    };
    // The default branch always resolves, even before any history is seeded.
    const root = fakeSha(`${fullName}:root`);
    repo.commits.set(root, {
      sha: root,
      parents: [],
      message: 'Initial commit',
      author: { name: 'octocat', email: 'octocat@github.com', date: timestamp() },
    });
    repo.branches.set(repo.defaultBranch, root);
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  /** Full names of every seeded repository. */
  repoNames(): string[] {
    return [...this.repos.values()].map((r) => r.fullName);
  }

  repo(fullName: string): RepoRecord | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  private need(fullName: string): RepoRecord {
    return this.repo(fullName) ?? this.addRepo(fullName);
  }

  /** Seeds (or replaces) a pull request; the repo is created if needed. */
  addPull(p: AddPullOptions): PullRecord {
    const repo = this.need(p.repo);
    const now = timestamp();
    const state = p.state ?? (p.merged ? 'closed' : 'open');
    const merged = p.merged ?? false;
    const baseRef = p.baseRef ?? repo.defaultBranch;
    const pull: PullRecord = {
      number: p.number,
      id: this.id(),
      title: p.title ?? `Pull request #${p.number}`,
      body: p.body === undefined ? null : p.body,
      state,
      merged,
      user: this.user(p.user ?? 'octocat'),
      headSha: p.headSha,
      headRef: p.headRef,
      baseRef,
      baseSha: p.baseSha ?? repo.branches.get(baseRef) ?? fakeSha(`${p.repo}:${baseRef}`),
      headRepoFullName: p.headRepoFullName ?? repo.fullName,
      draft: p.draft ?? false,
      createdAt: now,
      updatedAt: now,
      closedAt: state === 'closed' ? now : null,
      mergedAt: merged ? now : null,
      mergeCommitSha: merged ? fakeSha(`${p.repo}#${p.number}:merge`) : null,
      labels: [...(p.labels ?? [])],
    };
    repo.pulls.set(p.number, pull);
    repo.issues.set(p.number, { title: pull.title, createdAt: now });
    if (!repo.commits.has(p.headSha)) {
      repo.commits.set(p.headSha, {
        sha: p.headSha,
        parents: [pull.baseSha],
        message: pull.title,
        author: { name: pull.user.login, email: `${pull.user.login}@users.noreply.github.com`, date: now },
      });
    }
    // Same-repo PR branches are refs of this repo; a fork's branch is not.
    if (pull.headRepoFullName.toLowerCase() === repo.fullName.toLowerCase())
      repo.branches.set(p.headRef, p.headSha);
    return pull;
  }

  setPullState(fullName: string, number: number, state: 'open' | 'closed', merged = false): PullRecord {
    const pull = this.need(fullName).pulls.get(number);
    if (!pull) throw new Error(`setPullState: ${fullName}#${number} does not exist`);
    const now = timestamp();
    pull.state = state;
    pull.merged = state === 'closed' && merged;
    pull.updatedAt = now;
    pull.closedAt = state === 'closed' ? now : null;
    pull.mergedAt = pull.merged ? now : null;
    pull.mergeCommitSha = pull.merged ? fakeSha(`${fullName}#${number}:merge`) : null;
    return pull;
  }

  /** Replaces a pull request's labels (names; GitHub creates a label the first time it is used). */
  setPullLabels(fullName: string, number: number, labels: string[]): PullRecord {
    const pull = this.need(fullName).pulls.get(number);
    if (!pull) throw new Error(`setPullLabels: ${fullName}#${number} does not exist`);
    pull.labels = [...labels];
    pull.updatedAt = timestamp();
    return pull;
  }

  /** An issue (not a PR) that comments can be posted on. */
  addIssue(fullName: string, number: number, title = `Issue #${number}`): void {
    this.need(fullName).issues.set(number, { title, createdAt: timestamp() });
  }

  /** Seeds n comments (the issue is created if missing); bodyFn(i) gives the i-th body (0-based). */
  addComments(
    fullName: string,
    issueNumber: number,
    n: number,
    bodyFn: (i: number) => string = (i) => `comment ${i + 1}`,
    user = 'octocat',
  ): CommentRecord[] {
    const repo = this.need(fullName);
    if (!repo.issues.has(issueNumber)) this.addIssue(fullName, issueNumber);
    const out: CommentRecord[] = [];
    for (let i = 0; i < n; i++) out.push(this.createComment(repo, issueNumber, bodyFn(i), this.user(user)));
    return out;
  }

  createComment(repo: RepoRecord, issueNumber: number, body: string, user: UserRecord): CommentRecord {
    const now = timestamp();
    const c: CommentRecord = { id: this.id(), issueNumber, body, user, createdAt: now, updatedAt: now };
    repo.comments.push(c);
    return c;
  }

  /** Comments on one issue/PR, oldest first (as GitHub lists them). */
  comments(fullName: string, issueNumber: number): CommentRecord[] {
    return (this.repo(fullName)?.comments ?? []).filter((c) => c.issueNumber === issueNumber);
  }

  /** Deployments, oldest first; `latestState` is the newest status's state (undefined if none). */
  deployments(fullName: string): (DeploymentRecord & { latestState: StatusState | undefined })[] {
    const repo = this.repo(fullName);
    if (!repo) return [];
    return repo.deployments.map((d) => ({ ...d, latestState: this.latestStatus(repo, d.id)?.state }));
  }

  /** Statuses of one deployment, oldest first. */
  deploymentStatuses(fullName: string, deploymentId: number): DeploymentStatusRecord[] {
    return (this.repo(fullName)?.statuses ?? []).filter((s) => s.deploymentId === deploymentId);
  }

  latestStatus(repo: RepoRecord, deploymentId: number): DeploymentStatusRecord | undefined {
    const all = repo.statuses.filter((s) => s.deploymentId === deploymentId);
    return all[all.length - 1];
  }

  addEnvironment(fullName: string, name: string, opts: AddEnvironmentOptions = {}): EnvironmentRecord {
    const repo = this.need(fullName);
    const now = timestamp();
    const env: EnvironmentRecord = {
      id: this.id(),
      name,
      reviewers: (opts.reviewers ?? []).map((r) => {
        if (typeof r === 'string') return { type: 'User' as const, user: this.user(r) };
        if (r.type === 'User') return { type: 'User' as const, user: this.user(r.login) };
        const team = this.team(repo.owner.login, r.slug);
        for (const m of r.members ?? []) team.members.add(m.toLowerCase());
        return { type: 'Team' as const, slug: team.slug, id: team.id };
      }),
      preventSelfReview: opts.preventSelfReview ?? false,
      waitTimer: opts.waitTimer ?? 0,
      branchPolicy: opts.branchPolicy ?? null,
      canAdminsBypass: opts.canAdminsBypass ?? true,
      ruleIds: { reviewers: this.id(), waitTimer: this.id(), branchPolicy: this.id() },
      createdAt: now,
      updatedAt: now,
    };
    // Re-seeding an environment keeps its id, as editing one on GitHub does.
    const old = this.environment(fullName, name);
    if (old) {
      env.id = old.id;
      env.createdAt = old.createdAt;
    }
    repo.environments = repo.environments.filter((e) => e.name.toLowerCase() !== name.toLowerCase());
    repo.environments.push(env);
    return env;
  }

  /**
   * A workflow run, as GitHub Actions starts one. Each job with an `environment:` gets the deployment
   * GitHub makes for it: task `deploy`, `ref` = the run's branch, `sha` = its head SHA, empty payload,
   * description null, neither transient nor production, created in the actor's name via the GitHub
   * Actions app (octokit/webhooks payload-examples workflow_job/queued.with-deployment). Its first
   * status is `waiting` while the environment has required reviewers, otherwise the job starts at
   * once: `queued` then `in_progress`. Every status carries the job's URL in log_url/target_url.
   */
  startRun(fullName: string, opts: StartRunOptions): RunRecord {
    const repo = this.need(fullName);
    const id = opts.runId ?? this.id();
    if (repo.runs.has(id)) throw new Error(`startRun: run ${id} already exists in ${fullName}`);
    const now = timestamp();
    const run: RunRecord = {
      id,
      headSha: opts.headSha,
      headBranch: opts.headBranch ?? repo.defaultBranch,
      actor: this.user(opts.actor),
      createdAt: now,
      jobs: [],
      approvals: [],
    };
    if (!repo.commits.has(opts.headSha))
      this.addCommits(fullName, [opts.headSha], { branch: run.headBranch });
    for (const spec of opts.jobs) {
      const job: JobRecord = { id: this.id(), name: spec.name, status: 'in_progress' };
      if (spec.environment !== undefined) {
        // A job naming an environment that does not exist yet creates it, as on GitHub.
        const env =
          this.environment(fullName, spec.environment) ?? this.addEnvironment(fullName, spec.environment);
        const d: DeploymentRecord = {
          id: this.id(),
          sha: run.headSha,
          ref: run.headBranch,
          task: 'deploy',
          payload: {},
          environment: env.name,
          originalEnvironment: env.name,
          description: null,
          transientEnvironment: false,
          productionEnvironment: false,
          creator: run.actor,
          viaActions: true,
          createdAt: now,
          updatedAt: now,
        };
        repo.deployments.push(d);
        job.environment = env.name;
        job.deploymentId = d.id;
        if (env.reviewers.length > 0) {
          job.status = 'waiting';
          this.addJobStatus(repo, run, job, 'waiting');
        } else {
          this.startJob(repo, run, job);
        }
      }
      run.jobs.push(job);
    }
    repo.runs.set(id, run);
    return run;
  }

  run(fullName: string, runId: number): RunRecord | undefined {
    return this.repo(fullName)?.runs.get(runId);
  }

  /** Is `user` one of the environment's required reviewers (directly or through a team)? */
  isReviewer(env: EnvironmentRecord, user: UserRecord): boolean {
    return env.reviewers.some((r) =>
      r.type === 'User'
        ? r.user.id === user.id
        : (this.teamById(r.id)?.members.has(user.login.toLowerCase()) ?? false),
    );
  }

  /** github.com URL of a job's log, as GitHub puts it in the job deployment's statuses. */
  jobUrl(repo: RepoRecord, run: RunRecord, job: JobRecord): string {
    return `https://github.com/${repo.fullName}/actions/runs/${run.id}/job/${job.id}`;
  }

  addJobStatus(repo: RepoRecord, run: RunRecord, job: JobRecord, state: StatusState): void {
    const d = repo.deployments.find((x) => x.id === job.deploymentId);
    if (!d) return;
    const now = timestamp();
    const url = this.jobUrl(repo, run, job);
    repo.statuses.push({
      id: this.id(),
      deploymentId: d.id,
      state,
      description: '',
      environment: d.environment,
      targetUrl: url,
      logUrl: url,
      environmentUrl: '',
      creator: run.actor,
      createdAt: now,
      updatedAt: now,
    });
    d.updatedAt = now;
  }

  /** The job leaves `waiting` (approved or bypassed) or starts at once: queued, then in_progress. */
  startJob(repo: RepoRecord, run: RunRecord, job: JobRecord): void {
    job.status = 'in_progress';
    this.addJobStatus(repo, run, job, 'queued');
    this.addJobStatus(repo, run, job, 'in_progress');
  }

  /**
   * An administrator used "Start all waiting jobs" with the bypass (the environment allows admins to
   * bypass): the waiting jobs of `environment` run, and no approval is recorded for the run.
   */
  bypassRun(fullName: string, runId: number, environment: string): JobRecord[] {
    const repo = this.need(fullName);
    const run = repo.runs.get(runId);
    if (!run) throw new Error(`bypassRun: no run ${runId} in ${fullName}; start it first`);
    const env = this.environment(fullName, environment);
    if (!env) throw new Error(`bypassRun: no environment "${environment}" in ${fullName}`);
    if (!env.canAdminsBypass)
      throw new Error(`bypassRun: environment "${env.name}" does not allow administrators to bypass`);
    const jobs = run.jobs.filter((j) => j.status === 'waiting' && j.environment === env.name);
    if (jobs.length === 0) throw new Error(`bypassRun: no job of run ${runId} is waiting for "${env.name}"`);
    for (const j of jobs) this.startJob(repo, run, j);
    return jobs;
  }

  environment(fullName: string, name: string): EnvironmentRecord | undefined {
    return this.repo(fullName)?.environments.find((e) => e.name.toLowerCase() === name.toLowerCase());
  }

  /**
   * Seeds history. Plain SHAs form a chain: each one's parent is the previous entry, the first one's
   * parent is the branch's current head. The branch (default: the default branch) then points at
   * the last commit. Objects with explicit `parents` allow merges and side branches.
   */
  addCommits(fullName: string, commits: (string | CommitSpec)[], opts: { branch?: string } = {}): void {
    const repo = this.need(fullName);
    const branch = opts.branch ?? repo.defaultBranch;
    let prev = repo.branches.get(branch);
    const base = Date.now() - commits.length * 60_000;
    commits.forEach((c, i) => {
      const spec: CommitSpec = typeof c === 'string' ? { sha: c } : c;
      const author = spec.author ?? { name: 'octocat', email: 'octocat@github.com' };
      repo.commits.set(spec.sha, {
        sha: spec.sha,
        parents: spec.parents ?? (prev ? [prev] : []),
        message: spec.message ?? `commit ${spec.sha.slice(0, 7)}`,
        author: {
          name: author.name,
          email: author.email,
          date: author.date ?? timestamp(new Date(base + i * 60_000)),
        },
      });
      prev = spec.sha;
    });
    if (prev) repo.branches.set(branch, prev);
  }

  setBranch(fullName: string, branch: string, sha: string): void {
    this.need(fullName).branches.set(branch, sha);
  }

  /** A branch name, a full SHA or an unambiguous prefix of at least 7 characters → full SHA. */
  resolveRef(repo: RepoRecord, ref: string): string | undefined {
    const branch = repo.branches.get(ref.replace(/^refs\/heads\//, ''));
    if (branch) return branch;
    if (repo.commits.has(ref)) return ref;
    if (/^[0-9a-f]{7,40}$/i.test(ref)) {
      const hits = [...repo.commits.keys()].filter((s) => s.startsWith(ref.toLowerCase()));
      if (hits.length === 1) return hits[0];
    }
    for (const p of repo.pulls.values()) if (p.headSha === ref) return ref;
    const pullRef = /^(?:refs\/)?pull\/(\d+)\/(head|merge)$/.exec(ref);
    if (pullRef) {
      const pull = repo.pulls.get(Number(pullRef[1]));
      if (pull)
        return pullRef[2] === 'head'
          ? pull.headSha
          : (pull.mergeCommitSha ?? fakeSha(`${repo.fullName}#${pull.number}:merge`));
    }
    return undefined;
  }

  /** A token and what it may do; `read` behaves like a fork PR's GITHUB_TOKEN (403 on writes). */
  setToken(token: string, opts: { permissions: 'write' | 'read'; user?: string }): void {
    this.tokens.set(token, {
      permissions: opts.permissions,
      user: opts.user ? this.user(opts.user) : KNOWN_USERS['github-actions[bot]']!,
    });
  }

  /** What a token may do; undefined for one nobody registered (GitHub answers 401 Bad credentials). */
  token(token: string): TokenRecord | undefined {
    return this.tokens.get(token);
  }

  /** Revokes a token: from now on it gets 401 Bad credentials. */
  revokeToken(token: string): void {
    this.tokens.delete(token);
  }
}
