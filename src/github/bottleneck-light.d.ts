// bottleneck ships types for its main entry only; light.js (the build without Redis clustering that
// both Octokit plugins load) has the same API, so we reuse those types and share one copy in the bundle.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
