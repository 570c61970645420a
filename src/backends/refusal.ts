// The error a backend's run() throws for a scenario it cannot run (refuses() says the same).

/** Thrown by Backend.run() for a scenario or option the backend cannot honour. */
export class BackendRefusal extends Error {
  override readonly name = "BackendRefusal";
}
