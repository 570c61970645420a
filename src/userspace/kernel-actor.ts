// The kernel's deferred work (linkwatch, driver watchdogs, delayed opens) as an actor, so that
// it interleaves with userspace on the virtual clock like a workqueue does.

import { nextWorkDue, runDueWork } from "../kernel/index.ts";
import type { Actor } from "../sim/index.ts";
import type { World } from "./world.ts";

/** Runs one due kernel work item per step (each under RTNL, atomically). */
export class KernelWorkActor implements Actor {
  readonly name = "kernel";
  readonly #w: World;

  constructor(w: World) {
    this.#w = w;
  }

  readyAt(): number | null {
    return nextWorkDue(this.#w.k);
  }

  step(): void {
    const item = [...this.#w.k.state.work]
      .filter((x) => x.due <= this.#w.now())
      .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
    runDueWork(this.#w.k);
    if (item) this.#w.record(this.name, `work ${item.name}`, "ok");
  }
}
