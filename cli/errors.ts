/**
 * The CLI's own failures, told apart by exit code in runCli (cli/switchyard.ts): a usage error
 * (exit 2) is found before any request or database write; an operation that ran but did not
 * succeed is exit 1.
 */
export class UsageError extends Error {}

/** An operation that ran but did not succeed (a failed call, a key that was not live). */
export class OperationFailed extends Error {}
