// Test support for the DMP service: start it on SQLite or PostgreSQL, DPoP clients, real CPS
// authentication tokens from the test PKI's personas, a hand-moved clock.
export { TestClock } from './clock.js';
export { DpopClient, athOf, type CallOptions, type DmpResponse, type ProofOptions } from './dpop-client.js';
export { signAuthToken, authData, type AuthTokenJson, type SignAuthTokenInput } from './auth-token.js';
export { attemptLogin, requestChallenge, makeToken, expectProblem, type AttemptOptions, type Credential } from './login-attempt.js';
export { openDmpTestPki, freshTempDir, type DmpTestPki } from './pki.js';
export { postgresReachable, createTestDatabase, TEST_PG_ADMIN_URL, POSTGRES_HINT, type TestDatabase } from './postgres.js';
export {
  startTestDmpService,
  openTestStore,
  loginAs,
  dmpStoreKinds,
  TEST_ORIGIN,
  type StoreKind,
  type StartTestServiceOptions,
  type TestDmpService,
  type LoggedIn,
} from './service.js';
