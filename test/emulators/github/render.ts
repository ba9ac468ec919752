// GitHub's JSON shapes for the emulator's records. API URLs use the emulator's own base URL so a
// client that follows `url` fields stays on the emulator; html URLs point at github.com as usual.
import { createHash } from 'node:crypto';
import type {
  ApprovalRecord,
  CommentRecord,
  CommitRecord,
  DeploymentRecord,
  DeploymentStatusRecord,
  EnvironmentRecord,
  PullRecord,
  RepoRecord,
  UserRecord,
} from './state.js';

const WEB = 'https://github.com';

function nodeId(prefix: string, id: number | string): string {
  return Buffer.from(`${prefix}${id}`).toString('base64').replace(/=+$/, '');
}

export class Renderer {
  constructor(private readonly api: string) {}

  user(u: UserRecord): Record<string, unknown> {
    const base = `${this.api}/users/${encodeURIComponent(u.login)}`;
    return {
      login: u.login,
      id: u.id,
      node_id: nodeId(u.type === 'Bot' ? 'BOT_' : 'U_', u.id),
      avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`,
      gravatar_id: '',
      url: base,
      html_url: u.type === 'Bot' ? `${WEB}/apps/${u.login.replace(/\[bot\]$/, '')}` : `${WEB}/${u.login}`,
      followers_url: `${base}/followers`,
      following_url: `${base}/following{/other_user}`,
      gists_url: `${base}/gists{/gist_id}`,
      starred_url: `${base}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/subscriptions`,
      organizations_url: `${base}/orgs`,
      repos_url: `${base}/repos`,
      events_url: `${base}/events{/privacy}`,
      received_events_url: `${base}/received_events`,
      type: u.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  repoUrl(repo: RepoRecord | string): string {
    return `${this.api}/repos/${typeof repo === 'string' ? repo : repo.fullName}`;
  }

  /** `repository` and `full-repository` shapes (the latter is a superset, so one object serves both). */
  repo(repo: RepoRecord, openIssues = 0, forkOf?: RepoRecord): Record<string, unknown> {
    const u = this.repoUrl(repo);
    const html = `${WEB}/${repo.fullName}`;
    return {
      id: repo.id,
      node_id: nodeId('R_', repo.id),
      name: repo.name,
      full_name: repo.fullName,
      private: repo.private,
      owner: this.user(repo.owner),
      html_url: html,
      description: null,
      fork: forkOf !== undefined,
      url: u,
      forks_url: `${u}/forks`,
      keys_url: `${u}/keys{/key_id}`,
      collaborators_url: `${u}/collaborators{/collaborator}`,
      teams_url: `${u}/teams`,
      hooks_url: `${u}/hooks`,
      issue_events_url: `${u}/issues/events{/number}`,
      events_url: `${u}/events`,
      assignees_url: `${u}/assignees{/user}`,
      branches_url: `${u}/branches{/branch}`,
      tags_url: `${u}/tags`,
      blobs_url: `${u}/git/blobs{/sha}`,
      git_tags_url: `${u}/git/tags{/sha}`,
      git_refs_url: `${u}/git/refs{/sha}`,
      trees_url: `${u}/git/trees{/sha}`,
      statuses_url: `${u}/statuses/{sha}`,
      languages_url: `${u}/languages`,
      stargazers_url: `${u}/stargazers`,
      contributors_url: `${u}/contributors`,
      subscribers_url: `${u}/subscribers`,
      subscription_url: `${u}/subscription`,
      commits_url: `${u}/commits{/sha}`,
      git_commits_url: `${u}/git/commits{/sha}`,
      comments_url: `${u}/comments{/number}`,
      issue_comment_url: `${u}/issues/comments{/number}`,
      contents_url: `${u}/contents/{+path}`,
      compare_url: `${u}/compare/{base}...{head}`,
      merges_url: `${u}/merges`,
      archive_url: `${u}/{archive_format}{/ref}`,
      downloads_url: `${u}/downloads`,
      issues_url: `${u}/issues{/number}`,
      pulls_url: `${u}/pulls{/number}`,
      milestones_url: `${u}/milestones{/number}`,
      notifications_url: `${u}/notifications{?since,all,participating}`,
      labels_url: `${u}/labels{/name}`,
      releases_url: `${u}/releases{/id}`,
      deployments_url: `${u}/deployments`,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      pushed_at: repo.createdAt,
      git_url: `git://github.com/${repo.fullName}.git`,
      ssh_url: `git@github.com:${repo.fullName}.git`,
      clone_url: `${html}.git`,
      svn_url: html,
      homepage: null,
      size: 0,
      stargazers_count: 0,
      watchers_count: 0,
      language: 'TypeScript',
      has_issues: true,
      has_projects: true,
      has_downloads: true,
      has_wiki: true,
      has_pages: false,
      has_discussions: false,
      forks_count: 0,
      mirror_url: null,
      archived: false,
      disabled: false,
      open_issues_count: openIssues,
      license: null,
      allow_forking: true,
      is_template: false,
      web_commit_signoff_required: false,
      topics: [],
      visibility: repo.private ? 'private' : 'public',
      forks: 0,
      open_issues: openIssues,
      watchers: 0,
      default_branch: repo.defaultBranch,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      network_count: 0,
      subscribers_count: 0,
    };
  }

  comment(repo: RepoRecord, c: CommentRecord): Record<string, unknown> {
    const u = this.repoUrl(repo);
    return {
      id: c.id,
      node_id: nodeId('IC_', c.id),
      url: `${u}/issues/comments/${c.id}`,
      html_url: `${WEB}/${repo.fullName}/pull/${c.issueNumber}#issuecomment-${c.id}`,
      body: c.body,
      user: this.user(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      issue_url: `${u}/issues/${c.issueNumber}`,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'OWNER',
      performed_via_github_app: null,
      reactions: {
        url: `${u}/issues/comments/${c.id}/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0,
      },
    };
  }

  /** A label as GitHub shows it on a pull request; the id is stable per repository and name. */
  label(repo: RepoRecord, name: string): Record<string, unknown> {
    const id = parseInt(
      createHash('sha1').update(`${repo.fullName}:${name.toLowerCase()}`).digest('hex').slice(0, 8),
      16,
    );
    return {
      id,
      node_id: nodeId('LA_', id),
      url: `${this.repoUrl(repo)}/labels/${encodeURIComponent(name)}`,
      name,
      description: null,
      color: 'ededed',
      default: false,
    };
  }

  /** `pull-request-simple`; `full` adds the `pull-request` fields (merged, mergeable, counts …). */
  pull(
    repo: RepoRecord,
    p: PullRecord,
    headRepo: RepoRecord,
    full: boolean,
    commentCount = 0,
  ): Record<string, unknown> {
    const u = this.repoUrl(repo);
    const html = `${WEB}/${repo.fullName}/pull/${p.number}`;
    const link = (href: string): { href: string } => ({ href });
    const simple: Record<string, unknown> = {
      url: `${u}/pulls/${p.number}`,
      id: p.id,
      node_id: nodeId('PR_', p.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${u}/issues/${p.number}`,
      commits_url: `${u}/pulls/${p.number}/commits`,
      review_comments_url: `${u}/pulls/${p.number}/comments`,
      review_comment_url: `${u}/pulls/comments{/number}`,
      comments_url: `${u}/issues/${p.number}/comments`,
      statuses_url: `${u}/statuses/${p.headSha}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: this.user(p.user),
      body: p.body,
      labels: p.labels.map((name) => this.label(repo, name)),
      milestone: null,
      active_lock_reason: null,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      closed_at: p.closedAt,
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: {
        label: `${headRepo.owner.login}:${p.headRef}`,
        ref: p.headRef,
        sha: p.headSha,
        user: this.user(headRepo.owner),
        repo: this.repo(headRepo, 0, headRepo === repo ? undefined : repo),
      },
      base: {
        label: `${repo.owner.login}:${p.baseRef}`,
        ref: p.baseRef,
        sha: p.baseSha,
        user: this.user(repo.owner),
        repo: this.repo(repo),
      },
      _links: {
        self: link(`${u}/pulls/${p.number}`),
        html: link(html),
        issue: link(`${u}/issues/${p.number}`),
        comments: link(`${u}/issues/${p.number}/comments`),
        review_comments: link(`${u}/pulls/${p.number}/comments`),
        review_comment: link(`${u}/pulls/comments{/number}`),
        commits: link(`${u}/pulls/${p.number}/commits`),
        statuses: link(`${u}/statuses/${p.headSha}`),
      },
      author_association: p.user.login === repo.owner.login ? 'OWNER' : 'CONTRIBUTOR',
      auto_merge: null,
      draft: p.draft,
    };
    if (!full) return simple;
    return {
      ...simple,
      merged: p.merged,
      mergeable: p.state === 'open' ? true : null,
      rebaseable: p.state === 'open' ? true : null,
      mergeable_state: p.state === 'open' ? 'clean' : 'unknown',
      merged_by: p.merged ? this.user(repo.owner) : null,
      comments: commentCount,
      review_comments: 0,
      maintainer_can_modify: headRepo !== repo,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  }

  deployment(repo: RepoRecord, d: DeploymentRecord): Record<string, unknown> {
    const u = this.repoUrl(repo);
    return {
      url: `${u}/deployments/${d.id}`,
      id: d.id,
      node_id: nodeId('DE_', d.id),
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      original_environment: d.originalEnvironment,
      environment: d.environment,
      description: d.description,
      creator: this.user(d.creator),
      created_at: d.createdAt,
      updated_at: d.updatedAt,
      statuses_url: `${u}/deployments/${d.id}/statuses`,
      repository_url: u,
      transient_environment: d.transientEnvironment,
      production_environment: d.productionEnvironment,
      performed_via_github_app: d.viaActions ? this.actionsApp() : null,
    };
  }

  /** The GitHub Actions app, as job deployments name it in performed_via_github_app. */
  actionsApp(): Record<string, unknown> {
    return {
      id: 15368,
      slug: 'github-actions',
      node_id: 'MDM6QXBwMTUzNjg=',
      owner: this.user({ login: 'github', id: 9919, type: 'Organization' }),
      name: 'GitHub Actions',
      description: 'Automate your workflow from idea to production',
      external_url: 'https://help.github.com/en/actions',
      html_url: `${WEB}/apps/github-actions`,
      created_at: '2018-07-30T09:30:17Z',
      updated_at: '2019-12-10T19:04:12Z',
      permissions: {
        actions: 'write',
        checks: 'write',
        contents: 'write',
        deployments: 'write',
        metadata: 'read',
      },
      events: ['deployment', 'deployment_status', 'workflow_dispatch', 'workflow_run'],
    };
  }

  deploymentStatus(repo: RepoRecord, s: DeploymentStatusRecord): Record<string, unknown> {
    const u = this.repoUrl(repo);
    return {
      url: `${u}/deployments/${s.deploymentId}/statuses/${s.id}`,
      id: s.id,
      node_id: nodeId('DES_', s.id),
      state: s.state,
      creator: this.user(s.creator),
      description: s.description,
      environment: s.environment,
      target_url: s.targetUrl,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      deployment_url: `${u}/deployments/${s.deploymentId}`,
      repository_url: u,
      environment_url: s.environmentUrl,
      log_url: s.logUrl,
      performed_via_github_app: null,
    };
  }

  environment(repo: RepoRecord, e: EnvironmentRecord): Record<string, unknown> {
    const rules: Record<string, unknown>[] = [];
    if (e.waitTimer > 0) {
      rules.push({
        id: e.ruleIds.waitTimer,
        node_id: nodeId('GA_', e.ruleIds.waitTimer),
        type: 'wait_timer',
        wait_timer: e.waitTimer,
      });
    }
    if (e.reviewers.length > 0) {
      rules.push({
        id: e.ruleIds.reviewers,
        node_id: nodeId('GA_', e.ruleIds.reviewers),
        prevent_self_review: e.preventSelfReview,
        type: 'required_reviewers',
        reviewers: this.reviewers(repo, e),
      });
    }
    if (e.branchPolicy)
      rules.push({
        id: e.ruleIds.branchPolicy,
        node_id: nodeId('GA_', e.ruleIds.branchPolicy),
        type: 'branch_policy',
      });
    return {
      id: e.id,
      node_id: nodeId('EN_', e.id),
      name: e.name,
      url: `${this.repoUrl(repo)}/environments/${encodeURIComponent(e.name)}`,
      html_url: `${WEB}/${repo.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(e.name)}`,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
      protection_rules: rules,
      deployment_branch_policy: e.branchPolicy,
      // Not in the OpenAPI description, but GitHub returns it (google/go-github#2722).
      can_admins_bypass: e.canAdminsBypass,
    };
  }

  /** The short environment object that pending deployments and approvals embed. */
  environmentRef(repo: RepoRecord, e: EnvironmentRecord, withDates: boolean): Record<string, unknown> {
    return {
      id: e.id,
      node_id: nodeId('EN_', e.id),
      name: e.name,
      url: `${this.repoUrl(repo)}/environments/${encodeURIComponent(e.name)}`,
      html_url: `${WEB}/${repo.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(e.name)}`,
      ...(withDates ? { created_at: e.createdAt, updated_at: e.updatedAt } : {}),
    };
  }

  reviewers(repo: RepoRecord, e: EnvironmentRecord): Record<string, unknown>[] {
    return e.reviewers.map((r) =>
      r.type === 'User'
        ? { type: 'User', reviewer: this.user(r.user) }
        : { type: 'Team', reviewer: this.team(repo, r.slug, r.id) },
    );
  }

  pendingDeployment(
    repo: RepoRecord,
    e: EnvironmentRecord,
    waitingSince: string,
    currentUserCanApprove: boolean,
  ): Record<string, unknown> {
    return {
      environment: this.environmentRef(repo, e, false),
      wait_timer: e.waitTimer,
      wait_timer_started_at: e.waitTimer > 0 ? waitingSince : null,
      current_user_can_approve: currentUserCanApprove,
      reviewers: this.reviewers(repo, e),
    };
  }

  approval(repo: RepoRecord, a: ApprovalRecord, envs: EnvironmentRecord[]): Record<string, unknown> {
    return {
      state: a.state,
      comment: a.comment,
      environments: envs.map((e) => this.environmentRef(repo, e, true)),
      user: this.user(a.user),
    };
  }

  private team(repo: RepoRecord, slug: string, id: number): Record<string, unknown> {
    const org = repo.owner.login;
    return {
      id,
      node_id: nodeId('T_', id),
      url: `${this.api}/orgs/${org}/teams/${slug}`,
      html_url: `${WEB}/orgs/${org}/teams/${slug}`,
      name: slug,
      slug,
      description: null,
      privacy: 'closed',
      notification_setting: 'notifications_enabled',
      permission: 'pull',
      members_url: `${this.api}/orgs/${org}/teams/${slug}/members{/member}`,
      repositories_url: `${this.api}/orgs/${org}/teams/${slug}/repos`,
      parent: null,
      type: 'team',
    };
  }

  commit(repo: RepoRecord, c: CommitRecord): Record<string, unknown> {
    const u = this.repoUrl(repo);
    const git = { name: c.author.name, email: c.author.email, date: c.author.date };
    return {
      url: `${u}/commits/${c.sha}`,
      sha: c.sha,
      node_id: nodeId('C_', c.sha),
      html_url: `${WEB}/${repo.fullName}/commit/${c.sha}`,
      comments_url: `${u}/commits/${c.sha}/comments`,
      commit: {
        url: `${u}/git/commits/${c.sha}`,
        author: git,
        committer: git,
        message: c.message,
        comment_count: 0,
        tree: { sha: c.sha, url: `${u}/git/trees/${c.sha}` },
        verification: {
          verified: false,
          reason: 'unsigned',
          signature: null,
          payload: null,
          verified_at: null,
        },
      },
      author: null,
      committer: null,
      parents: c.parents.map((sha) => ({
        sha,
        url: `${u}/commits/${sha}`,
        html_url: `${WEB}/${repo.fullName}/commit/${sha}`,
      })),
    };
  }
}
