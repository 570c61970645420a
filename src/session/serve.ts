// `ifsim serve --state DIR`: a persistent session. The boot config and a journal of every call
// live in DIR; a restart boots the config and replays the journal (the model is deterministic),
// so every acknowledged call survives a killed server, and the dead server's pid file and socket
// are swept rather than blocking the next start.

import { existsSync, unlinkSync } from "node:fs";
import {
  checkSocketPath,
  Journal,
  loadOrSaveConfig,
  statePaths,
  takeServerLock,
} from "./journal.ts";
import { ModelSession, type SessionConfig } from "./model-session.ts";
import { QemuSessionError, qemuServeProblem, serveQemu } from "./qemu-serve.ts";
import { replayCalls, SessionServer } from "./server.ts";
import { writeShims } from "./shim.ts";

/** Options of serveState. */
export interface ServeOptions {
  /** The state directory (created 0700 when missing). */
  readonly dir: string;
  /** Boot options of a first start; null resumes DIR's saved session. */
  readonly config: SessionConfig | null;
  /** Resolves when the server should stop (SIGTERM, SIGINT, a test). */
  readonly stop: Promise<void>;
  /** Progress lines (listening, replayed calls). */
  readonly log: (line: string) => void;
}

/**
 * Serves DIR's session until `stop` resolves; returns how many calls it answered.
 * @throws StateError for a bad or busy DIR; what ModelSession.boot throws for a bad config.
 */
export async function serveState(o: ServeOptions): Promise<{ replayed: number; handled: number }> {
  const paths = statePaths(o.dir);
  const fresh = !existsSync(paths.config);
  const cfg = loadOrSaveConfig(o.dir, o.config);
  checkSocketPath(paths.socket);
  const release = takeServerLock(o.dir);
  try {
    if (cfg.backend === "qemu") {
      const journal = new Journal(o.dir);
      try {
        const why = qemuServeProblem(cfg);
        if (why !== null) throw new QemuSessionError(why);
        return await serveQemu({
          dir: o.dir,
          socketPath: paths.socket,
          binDir: paths.bin,
          config: cfg,
          journal,
          stop: o.stop,
          log: o.log,
        });
      } catch (e) {
        // As for the model: a first start that could not boot leaves no config behind, unless
        // a call was acknowledged meanwhile.
        if (fresh && journal.replay().length === 0) unlinkSync(paths.config);
        throw e;
      } finally {
        journal.close();
      }
    }
    let session: ModelSession;
    try {
      session = ModelSession.boot(cfg);
    } catch (e) {
      // A first start that cannot boot (an unknown kernel): leave no config that would refuse
      // the corrected options next time.
      if (fresh) unlinkSync(paths.config);
      throw e;
    }
    const journal = new Journal(o.dir);
    try {
      const calls = journal.replay();
      replayCalls(session, calls);
      const server = await SessionServer.listen({
        socketPath: paths.socket,
        session,
        journal,
        onInternalError: (e) =>
          o.log(`internal error: ${e instanceof Error ? e.stack : String(e)}`),
      });
      writeShims(paths.bin, paths.socket);
      o.log(
        `serving ${o.dir} on ${paths.socket} (kernel ${session.run.profile.version}, ${calls.length} journaled calls replayed); ` +
          `PATH=${paths.bin}:$PATH puts its ip and ifsim-hv first`,
      );
      await o.stop;
      await server.close();
      return { replayed: calls.length, handled: server.handled };
    } finally {
      journal.close();
    }
  } finally {
    release();
  }
}
