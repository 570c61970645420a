// The conformance layer: a scenario on a real kernel (a backend) against the model, and how
// the two run records are compared. The CLI (cli/conform.ts) parses, calls and prints.

export * from "./compare.ts";
export * from "./run.ts";
