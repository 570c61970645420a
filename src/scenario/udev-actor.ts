// The udev actor as the scenario runner sees it (`UdevActorLike`) and how it is built
// (`UdevFactory`): the seam between the runner and src/userspace/udev. Split from run.ts.

import type { Actor } from "../sim/index.ts";
import type { UdevDbEntry, UdevdSnapshot, UdevdView, UdevRename } from "../userspace/udev/index.ts";
import type { World } from "../userspace/world.ts";
import type { ScenarioDoc } from "./schema.ts";

/**
 * A userspace actor the runner can start for `udev:` (plugged in by the udev module; `Udevd` is
 * one). Besides the actor's own step, an explorer can run each worker as a lane of its own
 * (`workerReadyAt`, `stepWorker`), hash its state (`explorerView`) and save and restore it.
 */
export interface UdevActorLike extends Actor {
  isInitialized(ifindex: number): boolean;
  /** Initialized and not being renamed (no ID_RENAMING): what networkd waits for. */
  isReady(ifindex: number): boolean;
  /** Number of workers (lanes). */
  readonly workerCount: number;
  /** When worker `i`'s job can run (µs), or null while it is free. */
  workerReadyAt(i: number): number | null;
  /** Runs worker `i`'s job one step, as `step()` does when it picks that worker. */
  stepWorker(i: number): void;
  /** The state to hash (no times). */
  explorerView(): UdevdView;
  /** The explorer's environment: queue another device's event (`Udevd.otherQueue`). */
  otherQueue?(): void;
  /** The explorer's environment: worker `i` ends another device's event. */
  otherRelease?(i: number): void;
  /** The explorer's environment: other devices' events queued, and the workers holding one. */
  others?(): { queued: number; held: number[] };
  /** The due times of queued events and the last delivery time (an explorer's time view). */
  explorerTimes?(): {
    queue: readonly number[];
    lastDeliverAt: number;
    deliveryLatency: number;
  };
  save(): UdevdSnapshot;
  load(s: UdevdSnapshot): void;
  /** Every rename it asked the kernel for, with the answer. */
  readonly renames: readonly UdevRename[];
  /**
   * The name its .link files and rules (NAME=) would give the device (side-effect free), or
   * null; `kernelName` is the name of the `add` event (default: the current name).
   */
  predictableName(ifindex: number, kernelName?: string): string | null;
  /** `udevadm trigger --action=add` of the net devices; returns how many events were queued. */
  coldplug(): number;
  /**
   * False while a late udevd (`udev.start: late`) has not started: the script starts it once
   * boot is quiescent (`start()`: listen, then the trigger; returns the events queued).
   */
  readonly running?: boolean;
  start?(): number;
  /** The udev database (`udevadm info` of every device), by ifindex. */
  entries?(): UdevDbEntry[];
  /** `udevadm test-builtin net_id`: the builtin's properties for the device now, or null. */
  netIdProperties?(ifindex: number): Record<string, string> | null;
}

/** Builds the udev actor from the scenario's `udev:` section. */
export type UdevFactory = (
  w: World,
  cfg: Exclude<ScenarioDoc["udev"], "none" | undefined>,
) => UdevActorLike;
