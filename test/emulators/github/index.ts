// Public entry of the GitHub REST API emulator (see server.ts for the request pipeline).
export { startGitHubEmulator } from './server.js';
export type { GitHubEmulator, GitHubEmulatorOptions, RecordedRequest } from './server.js';
export { GitHubState, timestamp, fakeSha } from './state.js';
export type {
  AddEnvironmentOptions,
  AddPullOptions,
  BranchPolicy,
  CommentRecord,
  CommitSpec,
  DeploymentRecord,
  DeploymentState,
  DeploymentStatusRecord,
  ApprovalRecord,
  EnvironmentRecord,
  JobRecord,
  PullRecord,
  RepoRecord,
  ReviewerSpec,
  RunRecord,
  StartRunOptions,
  StatusState,
  TeamRecord,
  UserRecord,
} from './state.js';
export { loadGitHubSpec, GitHubSpec } from './openapi.js';
