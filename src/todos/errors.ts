// What can go wrong in the Todo rules and their storage, in the domain's words.
// src/http/problem.ts turns each into its HTTP answer.

export class TodoNotFoundError extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`No todo has the id ${id}.`);
    this.name = "TodoNotFoundError";
    this.id = id;
  }
}

export class TodoVersionMismatchError extends Error {
  /** The version the todo has now, so that the caller can learn it. */
  readonly currentVersion: number;
  constructor(currentVersion: number) {
    super(`The todo is at version ${currentVersion}, not one of those the change names.`);
    this.name = "TodoVersionMismatchError";
    this.currentVersion = currentVersion;
  }
}

export class InvalidPageTokenError extends Error {
  constructor() {
    super("The page token is not one this listing gave.");
    this.name = "InvalidPageTokenError";
  }
}
