// The TypeScript side of the model client: `ifsim ip --state DIR` and the tests.

import { createConnection } from "node:net";
import { encodeFrame, FrameReader, type SessionRequest, type SessionResponse } from "./protocol.ts";

/** Why a call did not get an answer (the server is gone, or it closed mid-call). */
export class SessionUnreachable extends Error {
  override readonly name = "SessionUnreachable";
}

/**
 * Sends one request to the server on `socketPath` and resolves with its answer.
 * @throws SessionUnreachable when there is no server or it closes before answering.
 */
export function callSession(socketPath: string, req: SessionRequest): Promise<SessionResponse> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    const reader = new FrameReader();
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    sock.on("connect", () => sock.write(encodeFrame(req)));
    sock.on("data", (d) => {
      const r = reader.push(d);
      if ("error" in r)
        return finish(() =>
          reject(new SessionUnreachable(`bad answer from ${socketPath}: ${r.error}`)),
        );
      const f = r.frames[0];
      if (f === undefined) return;
      sock.end();
      finish(() => resolve(f as SessionResponse));
    });
    sock.on("error", (e: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          new SessionUnreachable(`cannot reach the model at ${socketPath}: ${e.code ?? e.message}`),
        ),
      ),
    );
    sock.on("close", () =>
      finish(() =>
        reject(
          new SessionUnreachable(
            `the model server at ${socketPath} closed the connection mid-call`,
          ),
        ),
      ),
    );
  });
}
