// The configuration from issue 8, verbatim: the contract both the parser and the schema must accept.
export const ISSUE_EXAMPLE = `environments:
  - name: development          # also the GitHub environment name unless github-environment is set
    namespace: development
    manifests: deploy/overlays/development
    url: https://dev.shop.example.com
    smoke:
      - { path: /healthz, status: 200 }
      - { path: /api/products, status: 200, requests: 20, p95-ms: 500 }
  - name: testing
    namespace: testing
    manifests: deploy/overlays/testing
    url: https://test.shop.example.com
    requires: development       # the only stage testing may be promoted from
    protected: true             # must have required reviewers, and this run must have passed them
  - name: production
    namespace: production
    manifests: deploy/overlays/production
    url: https://shop.example.com
    requires: testing
    protected: true
    freeze:                     # promotions refused inside these windows (UTC unless tz given)
      - { from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", reason: holidays }
      - { cron: "0 16 * * 5", duration: 64h, reason: weekend }
`;
