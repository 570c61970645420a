// The scenario file format (../shared/spec/scenario-format.md), as one zod schema: the parser
// validates with it and `ifsim schema` exports it as JSON Schema for editors.

import { z } from "zod";

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** A MAC address. */
export const Mac = z
  .string({ error: "expected a MAC like 52:54:00:12:34:56" })
  .regex(MAC_RE, { error: "expected a MAC like 52:54:00:12:34:56" });

/** A scenario-local device handle (never a kernel name). */
export const DeviceId = z
  .string({ error: "expected a device id (a letter, then letters, digits, '-' or '_')" })
  .regex(/^[A-Za-z][\w-]*$/, {
    error: "expected a device id (a letter, then letters, digits, '-' or '_')",
  });

/** A duration: milliseconds as a number, or a string like "250ms", "2s". */
export const Duration = z.union(
  [
    z.number().int().nonnegative(),
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*(ms|s)$/, { error: 'expected a duration like 500, "500ms" or "2s"' }),
  ],
  { error: 'expected a duration like 500, "500ms" or "2s"' },
);

const Slot = z
  .number({ error: "expected a PCI slot number from 1 to 31" })
  .int()
  .min(1, { error: "expected a PCI slot number from 1 to 31" })
  .max(31, { error: "expected a PCI slot number from 1 to 31" });

/**
 * Where a PCI device sits. "pci.0" (default): a slot that can hot-plug (the model's bus 0, as
 * behind QEMU's pcie-root-port or on i440fx's ACPI hot-plug bus). "pcie.0": the q35 root complex
 * itself, which cannot hot-plug, so a device there can be neither plugged later nor a failover
 * primary (QEMU: "Bus 'pcie.0' does not support hotplugging").
 */
const Bus = z.enum(["pci.0", "pcie.0"], { error: 'expected a bus: "pci.0" or "pcie.0"' });

const VirtioNet = z.strictObject({
  id: DeviceId,
  type: z.literal("virtio-net"),
  mac: Mac,
  /** VIRTIO_NET_F_STANDBY (QEMU failover=on): the guest creates a net_failover master. */
  standby: z.boolean().optional(),
  /** PCI slot: the device sits at 0000:00:<slot>.0 (default: the next free slot from 3). */
  slot: Slot.optional(),
  bus: Bus.optional(),
  /** false: not present at boot; a `plug` step adds it. */
  plugged: z.boolean().optional(),
  /** Backend link (QEMU set_link). Default true. */
  link: z.boolean().optional(),
});

const PciNic = z.strictObject({
  id: DeviceId,
  type: z.literal("pci-nic"),
  mac: Mac,
  slot: Slot.optional(),
  bus: Bus.optional(),
  plugged: z.boolean().optional(),
  /** The driver model: e1000e (default) or a VF driver. */
  model: z.enum(["e1000e", "igbvf", "ixgbevf", "iavf"]).optional(),
  /**
   * QEMU failover_pair_id: hidden until the paired virtio-net negotiated STANDBY. As in QEMU, a
   * name that is not a virtio-net with standby: true pairs nothing (an ordinary NIC), and a
   * primary added while its standby is not plugged is visible at once.
   */
  failover_pair: DeviceId.optional(),
  link: z.boolean().optional(),
  /** Time from open to carrier, ms (default: the measured 2400). */
  link_up_delay_ms: z.number().int().nonnegative().optional(),
});

const Veth = z.strictObject({
  id: DeviceId,
  type: z.literal("veth"),
  /** Kernel name of this end (default: the kernel's veth%d). */
  name: z.string().optional(),
  /** Kernel name of the peer end. */
  peer: z.string().optional(),
  mac: Mac.optional(),
});

const Ifb = z.strictObject({
  id: DeviceId,
  type: z.literal("ifb"),
  name: z.string().optional(),
});

/** One device of the machine. */
export const Device = z.discriminatedUnion("type", [VirtioNet, PciNic, Veth, Ifb], {
  error: 'expected a device type: "virtio-net", "pci-nic", "veth" or "ifb"',
});

/** udev generations (../shared/spec/userspace-and-peers.md §1.4). */
export const UdevGeneration = z.enum(["legacy", "v249", "v250", "v253", "v256"]);

/** The udev-like actor's configuration. */
export const Udev = z.union([
  z.literal("none"),
  z.strictObject({
    generation: UdevGeneration.optional(),
    /** .link NamePolicy, in order (default: keep kernel database onboard slot path). */
    name_policy: z
      .array(z.enum(["keep", "kernel", "database", "onboard", "slot", "path", "mac"]))
      .optional(),
    /** Delay from a uevent to udevd receiving it, ms. */
    latency_ms: z.number().int().nonnegative().optional(),
    /** Time a worker spends on an event before acting (rules, builtins), ms. */
    processing_ms: z.number().int().nonnegative().optional(),
    /** Workers processing events for different devices in parallel (default 8). */
    workers: z.number().int().min(1).max(64).optional(),
    /** hwdb ID_NET_NAME_ALLOW lists (v256), e.g. {"net:naming:drvirtio_net:*": {PHYS_PORT_NAME: false}}. */
    hwdb: z.record(z.string(), z.record(z.string(), z.boolean())).optional(),
    /** ID_NET_NAME_FROM_DATABASE by MAC. */
    database: z.record(z.string(), z.string()).optional(),
    /** acpi_index (onboard) by PCI address. */
    onboard: z.record(z.string(), z.number().int().nonnegative()).optional(),
  }),
]);

/** The networkd/NetworkManager-like bring-up actor. */
export const Bringup = z.union([
  z.literal("none"),
  z.strictObject({
    /** Link names (glob patterns with *) it brings up when they appear. */
    links: z.array(z.string()).min(1),
    /** Wait until udev marked the link initialized (networkd does). Default false. */
    wait_for_udev: z.boolean().optional(),
    latency_ms: z.number().int().nonnegative().optional(),
  }),
]);

/** The cloud-init-like probe. */
export const CloudInit = z.union([
  z.literal("none"),
  z.strictObject({
    /** When the probe runs, ms after boot. */
    at_ms: z.number().int().nonnegative().optional(),
    /** Skip failover slaves (is_netfailover), as cloud-init has since 19.x. Default true. */
    filter_failover: z.boolean().optional(),
  }),
]);

/** Guest kernel modules (modprobe names). */
export const GuestModule = z.enum(
  ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
  {
    error: "expected a module: virtio_pci, failover, net_failover, virtio_net or e1000e",
  },
);

const Ip = z.strictObject({ ip: z.string().min(1, { error: "expected an ip command" }) });
const Plug = z.strictObject({ plug: DeviceId });
const Unplug = z.strictObject({ unplug: DeviceId });
const Settle = z.literal("settle");
const Sleep = z.strictObject({ sleep: Duration });
/** `modprobe MODULE` in the guest: its driver binds the devices present. */
const Modprobe = z.strictObject({ modprobe: GuestModule });
/** `udevadm trigger --action=add --subsystem-match=net`: udevd gets an `add` for every netdev. */
const Udevadm = z.strictObject({
  udevadm: z.literal("trigger", { error: 'expected "trigger"' }),
});
const SetLink = z.strictObject({
  set_link: z.strictObject({ device: DeviceId, up: z.boolean() }),
});
/** QEMU's failover migration of the VM (source side), §3. */
const Migrate = z.strictObject({
  migrate: z.strictObject({
    /** The failover primary (or primaries) QEMU asks the guest to unplug, in UNPLUG_PRIMARY order. */
    primary: z.union([DeviceId, z.array(DeviceId).min(1)], {
      error: "expected a device id or a list of device ids",
    }),
    /** What happens: completed (default), cancel-before-eject, cancel-after-eject, timeout. */
    outcome: z
      .enum(["completed", "cancel-before-eject", "cancel-after-eject", "timeout"])
      .optional(),
    /** Guest's time to eject the primary after UNPLUG_PRIMARY, ms (default 100). */
    eject_delay_ms: z.number().int().nonnegative().optional(),
    /** Completed: time until the VM runs on the destination and QEMU re-plugs the primary, ms. */
    downtime_ms: z.number().int().nonnegative().optional(),
    /**
     * Completed: true (default) — the VM resumes on the destination and QEMU re-plugs the
     * primaries there; false — stop at STOP on the source (what qtest migrate/on/out sees).
     */
    resume: z.boolean().optional(),
  }),
});

/** The step kinds, by key. */
export const STEP_KINDS = [
  "ip",
  "plug",
  "unplug",
  "settle",
  "sleep",
  "set_link",
  "migrate",
  "modprobe",
  "udevadm",
] as const;

/** One step. */
export const Step = z.union([Ip, Plug, Unplug, Settle, Sleep, SetLink, Migrate, Modprobe, Udevadm]);

/** The schema of each step kind, for precise errors. */
export const STEP_SCHEMAS: Readonly<Record<(typeof STEP_KINDS)[number], z.ZodType>> = {
  ip: Ip,
  plug: Plug,
  unplug: Unplug,
  settle: Settle,
  sleep: Sleep,
  set_link: SetLink,
  migrate: Migrate,
  modprobe: Modprobe,
  udevadm: Udevadm,
};

const ErrnoOrOk = z
  .string()
  .regex(/^(ok|E[A-Z0-9]+)$/, { error: 'expected "ok" or an errno name like EBUSY' });

const ExpectStep = z.strictObject({ step: z.number().int().min(1), error: ErrnoOrOk });
const ExpectLink = z.strictObject({
  link: z.string(),
  exists: z.boolean().optional(),
  master: z.string().nullable().optional(),
  up: z.boolean().optional(),
  carrier: z.boolean().optional(),
  name_assign_type: z.number().int().min(0).max(4).optional(),
});
/** A PCI device as QEMU's query-pci sees it: present on the guest's bus, or hidden by QEMU. */
const ExpectDevice = z.strictObject({
  device: DeviceId,
  present: z.boolean().optional(),
  hidden: z.boolean().optional(),
});
const ExpectLog = z.strictObject({ log: z.string() });
const ExpectNoLog = z.strictObject({ no_log: z.string() });

/** One expectation. */
export const Expect = z.union([ExpectStep, ExpectLink, ExpectDevice, ExpectLog, ExpectNoLog]);

/** The schema of each expectation kind, by the key that names it (for precise errors). */
export const EXPECT_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  step: ExpectStep,
  link: ExpectLink,
  device: ExpectDevice,
  log: ExpectLog,
  no_log: ExpectNoLog,
};

/** Invariants `ifsim explore` checks (names: `ifsim explore --list-invariants`). */
export const InvariantNameDoc = z.enum([
  "unique-names",
  "unique-ifindexes",
  "no-ebusy-to-udev",
  "failover-named",
  "no-duplicate-mac-crash",
  "no-kernel-warning",
  "expect",
]);

/** Defaults for `ifsim explore` on this scenario (the command line overrides them). */
export const ExploreDoc = z.strictObject({
  /** The invariants to check (default: every built-in one; add `expect` for this file's expect:). */
  invariants: z.array(InvariantNameDoc).min(1).optional(),
  /** any (default): every ready actor may go next; strict: virtual-time order, ties explored. */
  timing: z.enum(["any", "strict"]).optional(),
});

/** A whole scenario file. */
export const Scenario = z.strictObject({
  ifsim: z.literal(1, { error: "expected ifsim: 1 (the format version)" }),
  name: z.string().min(1),
  description: z.string().optional(),
  /** Kernel version; selects the behaviour profile. A run may override it. */
  kernel: z.string().optional(),
  /** Oracle UEK5 net_failover takeover_delay (ms); absent = mainline. */
  uek_takeover_delay_ms: z.number().int().nonnegative().optional(),
  /** sysctl net.core.default_qdisc of the guest (default fq_codel, Debian's). */
  default_qdisc: z.string().optional(),
  /**
   * The QEMU machine type (default q35): q35 puts hot-pluggable NICs behind PCIe root ports and
   * has no firmware hot-plug slots (udev names `enp0s3`, `enp1s0`); i440fx keeps every NIC on
   * bus 0 with ACPI hot-plug slots (`ens3`).
   */
  machine: z.enum(["q35", "i440fx"]).optional(),
  /** Guest modules loaded at boot, in order (default: all); a `modprobe` step loads more. */
  modules: z.array(GuestModule).optional(),
  seed: z.number().int().nonnegative().optional(),
  devices: z.array(Device).optional(),
  udev: Udev.optional(),
  bringup: Bringup.optional(),
  cloud_init: CloudInit.optional(),
  explore: ExploreDoc.optional(),
  steps: z.array(Step),
  expect: z.array(Expect).optional(),
});

export type ScenarioDoc = z.infer<typeof Scenario>;
export type DeviceDoc = z.infer<typeof Device>;
export type StepDoc = z.infer<typeof Step>;
export type ExpectDoc = z.infer<typeof Expect>;
export type UdevDoc = z.infer<typeof Udev>;

/** The JSON Schema for editors (draft 2020-12). */
export function scenarioJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(Scenario, { target: "draft-2020-12" }) as Record<string, unknown>;
  return {
    ...s,
    $id: "https://ifsim.invalid/scenario.schema.json",
    title: "ifsim scenario",
    description:
      "A machine, its userspace and what happens to it (../shared/spec/scenario-format.md).",
  };
}
