/**
 * Names every database and vhost a test run creates, so that a run cleans up exactly its own
 * leftovers and parallel runs on one machine never touch each other's.
 */
export const TEST_RUN_ID_ENV = 'PACSLINK_TEST_RUN_ID';

export function testRunId(): string {
  const id = process.env[TEST_RUN_ID_ENV];
  if (!id)
    throw new Error(
      `${TEST_RUN_ID_ENV} is not set: integration tests run through \`npm test\` (jest global setup)`,
    );
  return id;
}

export function uniqueSuffix(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
