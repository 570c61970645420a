// QEMU's side of a failover migration (userspace-and-peers.md §3) as an actor of a scenario run:
// it asks the guest to eject the primaries, waits, and replugs or gives up. Split from run.ts.

import type { Actor } from "../sim/index.ts";
import type { World } from "../userspace/world.ts";
import type { StepDoc } from "./schema.ts";

/** A migration in progress (QemuMigration's job). */
interface MigrationJob {
  primaries: string[];
  outcome: "completed" | "cancel-before-eject" | "cancel-after-eject" | "timeout";
  resume: boolean;
  stage: "request" | "eject" | "after-eject" | "replug" | "timeout" | "done";
  /** How many primaries the guest ejected so far (in order). */
  ejected: number;
  at: number;
  downtimeUs: number;
  ejectDelayUs: number;
  onDone: (status: string) => void;
}

/** What QemuMigration saves: a copy of its job (sharing the same `onDone` function). */
export interface QemuSnapshot {
  readonly job: Readonly<MigrationJob> | null;
}

function copyJob(j: Readonly<MigrationJob> | null): MigrationJob | null {
  return j === null ? null : { ...j, primaries: [...j.primaries] };
}

/** The QEMU side of a failover migration (§3 of userspace-and-peers.md), as an actor. */
export class QemuMigration implements Actor {
  readonly name = "qemu";
  readonly #w: World;
  #job: MigrationJob | null = null;

  constructor(w: World) {
    this.#w = w;
  }

  save(): QemuSnapshot {
    return { job: copyJob(this.#job) };
  }

  load(s: QemuSnapshot): void {
    this.#job = copyJob(s.job);
  }

  /** The job as an explorer keys it (null: none): what its next steps read, without its time. */
  explorerView(): unknown {
    if (this.#job === null) return null;
    const { onDone: _d, at: _a, ...rest } = this.#job;
    return rest;
  }

  /** Starts a migration; `onDone` gets the final status. */
  start(
    m: Extract<StepDoc, { migrate: unknown }>["migrate"],
    onDone: (status: string) => void,
  ): void {
    this.#job = {
      primaries: typeof m.primary === "string" ? [m.primary] : [...m.primary],
      outcome: m.outcome ?? "completed",
      resume: m.resume ?? true,
      stage: "request",
      ejected: 0,
      at: this.#w.now(),
      downtimeUs: (m.downtime_ms ?? 500) * 1000,
      ejectDelayUs: (m.eject_delay_ms ?? 100) * 1000,
      onDone,
    };
  }

  readyAt(): number | null {
    return this.#job && this.#job.stage !== "done" ? Math.max(this.#job.at, this.#w.now()) : null;
  }

  #replug(ids: readonly string[]): string {
    return ids.map((p) => `${p} ${this.#w.machine.plug(p)}`).join(", ");
  }

  step(): void {
    const j = this.#job;
    if (!j) return;
    const w = this.#w;
    switch (j.stage) {
      case "request": {
        const absent = j.primaries.filter((p) => !w.machine.isPresent(p));
        if (absent.length > 0) {
          w.record(this.name, `migrate: ${absent.join(", ")} is not plugged`, "failed", false);
          j.stage = "done";
          j.onDone("failed");
          return;
        }
        // One UNPLUG_PRIMARY per primary (the qtest accepts them in either order; here: as listed).
        for (const p of j.primaries) w.record(this.name, `UNPLUG_PRIMARY ${p}`, "event");
        w.record(this.name, "migration status wait-unplug", "ok");
        if (j.outcome === "timeout" || j.outcome === "cancel-before-eject") {
          w.record(
            this.name,
            "migrate_cancel; migration status cancelling (waiting for the guest's eject)",
            "ok",
          );
        }
        if (j.outcome === "timeout") {
          // The guest never ejects: after a cancel QEMU waits 120 × 250 ms for the unplug.
          j.stage = "timeout";
          j.at = w.now() + 30_000_000;
        } else {
          j.stage = "eject";
          j.at = w.now() + j.ejectDelayUs;
        }
        return;
      }
      case "eject": {
        const p = j.primaries[j.ejected] as string;
        w.machine.unplug(p);
        j.ejected++;
        w.record(this.name, `guest ejected ${p} (ACPI); DEVICE_DELETED`, "ok");
        if (j.ejected < j.primaries.length) {
          const status = j.outcome === "cancel-before-eject" ? "cancelling" : "wait-unplug";
          w.record(
            this.name,
            `migration status still ${status}: ${j.primaries.length - j.ejected} primary to eject`,
            "ok",
          );
          j.at = w.now() + j.ejectDelayUs;
        } else {
          j.stage = "after-eject";
          j.at = w.now();
        }
        return;
      }
      case "after-eject": {
        if (j.outcome === "completed") {
          w.record(this.name, "migration status active", "ok");
          if (!j.resume) {
            w.record(this.name, "migration status completed; STOP (source)", "ok");
            j.stage = "done";
            j.onDone("completed");
            return;
          }
          w.record(
            this.name,
            "migration status completed; STOP; VM resumes on the destination",
            "ok",
          );
          j.stage = "replug";
          j.at = w.now() + j.downtimeUs;
        } else {
          if (j.outcome === "cancel-after-eject")
            w.record(this.name, "migration status active; migrate_cancel", "ok");
          const r = this.#replug(j.primaries);
          w.record(this.name, `migration status cancelled; primary re-plugged: ${r}`, "ok");
          j.stage = "done";
          j.onDone("cancelled");
        }
        return;
      }
      case "replug": {
        const standbys = j.primaries.flatMap((p) => {
          const d = w.machine.spec.devices.find((x) => x.id === p);
          return d?.failoverPairId !== undefined ? [d.failoverPairId] : [];
        });
        const negotiated = standbys.map((s) => `FAILOVER_NEGOTIATED ${s}; `).join("");
        const r = this.#replug(j.primaries);
        w.record(this.name, `destination: ${negotiated}${r}; RESUME`, "ok");
        j.stage = "done";
        j.onDone("completed");
        return;
      }
      case "timeout": {
        w.record(
          this.name,
          "unplug timeout (30 s): migration status cancelled (the guest never ejected)",
          "cancelled",
        );
        j.stage = "done";
        j.onDone("cancelled");
        return;
      }
      case "done":
        return;
    }
  }
}
