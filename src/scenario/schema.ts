// The scenario file format (docs/scenario-format.md), as one zod schema: the parser validates
// with it and `ifsim schema` exports it as JSON Schema for editors. Every property carries a
// `.describe()` text: editors show it, and docs/scenario-format.md says the same at length.

import * as z from "zod";
import { LINUX_ERRNO_NAMES } from "./errno-names.ts";

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

/**
 * The longest duration a scenario may give, ms: one day. The virtual clock counts microseconds
 * up to 2^53 − 1 (about 285 years); with every delay at most a day and the sleeps together at
 * most MAX_TOTAL_SLEEP_MS, a run stays far inside that range.
 */
export const MAX_DURATION_MS = 86_400_000;

/** The longest all `sleep` steps of a scenario may add up to, ms: 1000 days. */
export const MAX_TOTAL_SLEEP_MS = 1000 * MAX_DURATION_MS;

const TOO_LONG = `expected a duration of at most ${MAX_DURATION_MS} ms (one day)`;

/** ms in a duration string ("250ms", "2.5s"), or null when it is not one. */
export function durationStringMs(d: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(d);
  if (!m) return null;
  return Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
}

/** Milliseconds: a non-negative integer of at most MAX_DURATION_MS. */
const Ms = z.number().max(MAX_DURATION_MS, { error: TOO_LONG, abort: true }).int().nonnegative();

/** A duration: milliseconds as a number, or a string like "250ms", "2s" (at most one day). */
export const Duration = z
  .union(
    [
      z.number().int().nonnegative(),
      z.string().regex(/^\d+(\.\d+)?\s*(ms|s)$/, {
        error: 'expected a duration like 500, "500ms" or "2s"',
      }),
    ],
    { error: 'expected a duration like 500, "500ms" or "2s"' },
  )
  .superRefine((d, ctx) => {
    if ((typeof d === "number" ? d : (durationStringMs(d) ?? 0)) > MAX_DURATION_MS)
      ctx.addIssue({ code: "custom", message: TOO_LONG });
  });

/** The first PCI slot the model hands a device without `slot:` (QEMU i440fx: 0-2 are taken). */
export const FIRST_AUTO_SLOT = 3;
/** The last slot of a PCI bus. */
export const LAST_SLOT = 31;

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

const ID_TEXT =
  "Scenario-local handle of the device (never a kernel name); steps and expectations name the device by it";
const MAC_TEXT = "The device's MAC address (a failover primary has its standby's MAC)";
const SLOT_TEXT =
  "PCI slot: the device sits at 0000:00:<slot>.0 (default: the next free slot from 3)";
const BUS_TEXT =
  'Where the device sits: "pci.0" (default, can hot-plug) or "pcie.0" (the q35 root complex, which cannot hot-plug)';
const PLUGGED_TEXT = "false: not present at boot; a plug step adds it (default true)";
const LINK_TEXT = "The backend link (QEMU set_link), default true: false boots it without carrier";

const VirtioNet = z
  .strictObject({
    id: DeviceId.describe(ID_TEXT),
    type: z.literal("virtio-net").describe("A virtio-net PCI function (QEMU virtio-net-pci)"),
    mac: Mac.describe(MAC_TEXT),
    standby: z
      .boolean()
      .optional()
      .describe(
        "VIRTIO_NET_F_STANDBY (QEMU failover=on): the guest makes a net_failover master (the kernel's name) and this device its standby slave (default false)",
      ),
    slot: Slot.optional().describe(SLOT_TEXT),
    bus: Bus.optional().describe(BUS_TEXT),
    plugged: z.boolean().optional().describe(PLUGGED_TEXT),
    link: z.boolean().optional().describe(LINK_TEXT),
  })
  .describe("A virtio-net device");

const PciNic = z
  .strictObject({
    id: DeviceId.describe(ID_TEXT),
    type: z
      .literal("pci-nic")
      .describe("A plain PCIe Ethernet function: an e1000e-like NIC or an SR-IOV VF"),
    mac: Mac.describe(MAC_TEXT),
    slot: Slot.optional().describe(SLOT_TEXT),
    bus: Bus.optional().describe(BUS_TEXT),
    plugged: z.boolean().optional().describe(PLUGGED_TEXT),
    model: z
      .enum(["e1000e", "igbvf", "ixgbevf", "iavf"])
      .optional()
      .describe("The driver model: e1000e (default) or a VF driver"),
    failover_pair: DeviceId.optional().describe(
      "QEMU failover_pair_id: the id of a virtio-net with standby: true; QEMU hides this device until the guest negotiated STANDBY, and the guest's net_failover enslaves it by MAC. Naming anything else pairs nothing (an ordinary NIC), as in QEMU",
    ),
    link: z.boolean().optional().describe(LINK_TEXT),
    link_up_delay_ms: Ms.optional().describe(
      "Time from open to carrier, ms (default 2400, measured on e1000e under QEMU)",
    ),
  })
  .describe("A PCI NIC or VF");

const Veth = z
  .strictObject({
    id: DeviceId.describe(ID_TEXT),
    type: z
      .literal("veth")
      .describe("A veth pair, created before the steps (ip link add … type veth)"),
    name: z.string().optional().describe("Kernel name of this end (default: the kernel's veth%d)"),
    peer: z
      .string()
      .optional()
      .describe("Kernel name of the peer end (default: the kernel's veth%d)"),
    mac: Mac.optional().describe("MAC of this end (default: a random one, eth_hw_addr_random)"),
  })
  .describe("A veth pair (model and netns backend)");

const Ifb = z
  .strictObject({
    id: DeviceId.describe(ID_TEXT),
    type: z
      .literal("ifb")
      .describe("An ifb device, created before the steps (ip link add … type ifb)"),
    name: z.string().optional().describe("Kernel name (default: the kernel's ifb%d)"),
  })
  .describe("An ifb device (model and netns backend)");

/** One device of the machine. */
export const Device = z
  .discriminatedUnion("type", [VirtioNet, PciNic, Veth, Ifb], {
    error: 'expected a device type: "virtio-net", "pci-nic", "veth" or "ifb"',
  })
  .describe("One network device of the machine");

/** udev generations (docs/scenario-format.md, udev). */
export const UdevGeneration = z.enum(["legacy", "v249", "v250", "v253", "v256"]);

/** The udev-like actor's configuration. */
export const Udev = z
  .union([
    z.literal("none").describe("No udev: devices keep their kernel names"),
    z.strictObject({
      generation: UdevGeneration.optional().describe(
        "Which systemd-udevd's rename behaviour and log wording: legacy, v249, v250 (refuses to rename an UP interface), v253, v256 (default; hwdb ID_NET_NAME_ALLOW)",
      ),
      name_policy: z
        .array(z.enum(["keep", "kernel", "database", "onboard", "slot", "path", "mac"]))
        .optional()
        .describe(".link NamePolicy, in order (default: keep kernel database onboard slot path)"),
      start: z
        .enum(["boot", "late"], { error: 'expected "boot" or "late"' })
        .optional()
        .describe(
          "When udevd starts. boot (default): it listens from power-on and names each device as it registers. late: it is not running during the boot, so the uevents sent before it starts are lost; once boot is quiescent it starts and `udevadm trigger --action=add` (subsystems, then devices) replays an add for every device, then `udevadm settle`, then the steps (needs script_starts: quiescent)",
        ),
      latency_ms: Ms.optional().describe("Delay from a uevent to udevd receiving it, ms"),
      processing_ms: Ms.optional().describe(
        "Time a worker spends on an event before acting (rules, builtins), ms",
      ),
      workers: z
        .number()
        .int()
        .min(1)
        .max(64)
        .optional()
        .describe("Workers processing events for different devices in parallel (default 8)"),
      hwdb: z
        .record(z.string(), z.record(z.string(), z.boolean()))
        .optional()
        .describe(
          'hwdb ID_NET_NAME_ALLOW lists (v256), e.g. {"net:naming:drvirtio_net:*": {"PHYS_PORT_NAME": false}}',
        ),
      database: z
        .record(z.string(), z.string())
        .optional()
        .describe("ID_NET_NAME_FROM_DATABASE by MAC address"),
      onboard: z
        .record(z.string(), z.number().int().nonnegative())
        .optional()
        .describe("acpi_index (the onboard name eno<N>) by PCI address"),
      files: z
        .record(z.string().regex(/^\/[^\0]*[^/]$/, "an absolute file path"), z.string())
        .optional()
        .describe(
          "udev's configuration files as on disk, text by absolute path: .link files in /etc/systemd/network, /run/systemd/network or /usr/lib/systemd/network; udev rules in /etc/udev/rules.d, /run/udev/rules.d or /usr/lib/udev/rules.d; netplan YAML in /etc/netplan, /run/netplan or /lib/netplan (turned into the .link and .rules files netplan generate writes). An empty text masks a same-named file of a lower-priority directory (99-default.link, 80-net-setup-link.rules). What the model does not take is reported by file and line (docs/link-files.md)",
        ),
    }),
  ])
  .describe('The udev-like actor: "none", or its configuration');

/** The networkd/NetworkManager-like bring-up actor. */
export const Bringup = z
  .union([
    z.literal("none").describe("No bring-up actor"),
    z.strictObject({
      links: z
        .array(z.string())
        .min(1)
        .describe("Link names (glob patterns with *) it brings up when they appear"),
      wait_for_udev: z
        .boolean()
        .optional()
        .describe("Wait until udev marked the link initialized, as networkd does (default false)"),
      latency_ms: Ms.optional().describe("Delay from seeing a link to bringing it up, ms"),
      dhcp: z
        .boolean()
        .optional()
        .describe(
          "Also start a DHCPv4 client on each link it brings up (NetworkManager's default profile), unless udev set NM_UNMANAGED=1 or ID_NET_MANAGED_BY to another manager (default false)",
        ),
    }),
  ])
  .describe('The networkd/NetworkManager-like bring-up actor: "none", or its configuration');

/** The cloud-init-like probe. */
export const CloudInit = z
  .union([
    z.literal("none").describe("No cloud-init"),
    z.strictObject({
      at_ms: Ms.optional().describe("When the probe runs, ms after boot"),
      filter_failover: z
        .boolean()
        .optional()
        .describe(
          "Skip failover slaves (is_netfailover), as cloud-init has since 19.x (default true); false: the duplicate-MAC crash of older cloud-init",
        ),
    }),
  ])
  .describe('The cloud-init-like network probe: "none", or its configuration');

/** Guest kernel modules (modprobe names). */
export const GuestModule = z.enum(
  ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
  {
    error: "expected a module: virtio_pci, failover, net_failover, virtio_net or e1000e",
  },
);

const Ip = z.strictObject({
  ip: z
    .string()
    .min(1, { error: "expected an ip command" })
    .describe(
      'One ip command in iproute2 syntax without the leading ip, e.g. "link set dev eth0 up"; the step fails with the kernel\'s errno',
    ),
});
const Plug = z.strictObject({
  plug: DeviceId.describe("Hot-plug this device (QMP device_add)"),
});
const Unplug = z.strictObject({
  unplug: DeviceId.describe("Hot-unplug this device (QMP device_del, surprise removal)"),
});
const Settle = z
  .literal("settle")
  .describe("Wait until every actor is idle and every event is delivered");
const Sleep = z.strictObject({
  sleep: Duration.describe('Let the virtual clock run this long (500, "500ms", "2s")'),
});
/** `modprobe MODULE` in the guest: its driver binds the devices present. */
const Modprobe = z.strictObject({
  modprobe: GuestModule.describe(
    "Load this guest module: its driver binds the devices present (see modules:)",
  ),
});
/** `udevadm trigger --action=add --subsystem-match=net`: udevd gets an `add` for every netdev. */
const Udevadm = z.strictObject({
  udevadm: z
    .literal("trigger", { error: 'expected "trigger"' })
    .describe(
      "udevadm trigger --action=add --subsystem-match=net: udevd gets an add for every netdev",
    ),
});
const SetLink = z.strictObject({
  set_link: z
    .strictObject({
      device: DeviceId.describe("The virtio-net or pci-nic"),
      up: z.boolean().describe("The backend link: true up, false down"),
    })
    .describe("QEMU set_link: the device's carrier from the host side"),
});
/** QEMU's failover migration of the VM (source side), §3. */
const Migrate = z.strictObject({
  migrate: z
    .strictObject({
      primary: z
        .union([DeviceId, z.array(DeviceId).min(1)], {
          error: "expected a device id or a list of device ids",
        })
        .describe(
          "The failover primary (or primaries) QEMU asks the guest to unplug, in UNPLUG_PRIMARY order",
        ),
      outcome: z
        .enum(["completed", "cancel-before-eject", "cancel-after-eject", "timeout"])
        .optional()
        .describe(
          "What happens: completed (default), cancel-before-eject, cancel-after-eject, timeout",
        ),
      eject_delay_ms: Ms.optional().describe(
        "The guest's time to eject the primary after UNPLUG_PRIMARY, ms (default 100)",
      ),
      downtime_ms: Ms.optional().describe(
        "completed: time until the VM runs on the destination and QEMU re-plugs the primary, ms",
      ),
      resume: z
        .boolean()
        .optional()
        .describe(
          "completed: true (default) the VM resumes on the destination and QEMU re-plugs the primaries; false stop at STOP on the source (what qtest migrate/on/out sees)",
        ),
    })
    .describe("QEMU's failover migration of the VM (source side)"),
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

/** Edit distance (insertions, deletions, substitutions) between two short words. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(
        Math.min(
          (prev[j] as number) + 1,
          (cur[j - 1] as number) + 1,
          (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The message for a step result that is neither "ok" nor a Linux errno name. */
function errnoMessage(input: unknown): string {
  if (typeof input !== "string") return 'expected "ok" or an errno name like EBUSY';
  const up = input.toUpperCase();
  let best: string | null = null;
  let bestD = 3;
  for (const n of LINUX_ERRNO_NAMES) {
    const d = editDistance(up, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return `expected "ok" or an errno name like EBUSY; "${input}" is not a Linux errno${best ? ` (did you mean ${best}?)` : ""}`;
}

const ErrnoOrOk = z
  .enum(["ok", ...LINUX_ERRNO_NAMES] as [string, ...string[]], {
    error: (iss) => errnoMessage(iss.input),
  })
  .describe(
    'What the step returns: "ok", or the errno name it fails with (a Linux errno: EBUSY, EEXIST, …)',
  );

/** `kernels:` on an expectation: the kernels it is meant for (checked in parse.ts). */
const Kernels = z
  .union([z.string(), z.array(z.string()).min(1)], {
    error: 'expected a kernel selector or a list of them, e.g. ["5.0"], [E0], [">=5.1"]',
  })
  .optional()
  .describe(
    'The kernels this expectation is meant for (default: every kernel): versions ("5.0"), eras (E0: no UP rename; E1: failover slaves may be renamed UP, 5.1–6.1; E2: any device, 6.2+) or comparisons (">=5.1", "<6.2"); on other kernels it is not checked',
  );

const ExpectStep = z.strictObject({
  kernels: Kernels,
  step: z.number().int().min(1).describe("The step, 1-based, in the order of steps:"),
  error: ErrnoOrOk,
});
const ExpectLink = z.strictObject({
  kernels: Kernels,
  link: z.string().describe("The final link of this kernel name"),
  exists: z.boolean().optional().describe("false: no link has this name at the end (default true)"),
  master: z.string().nullable().optional().describe("Its master's name, or null for none"),
  up: z.boolean().optional().describe("IFF_UP is set (administratively up)"),
  carrier: z.boolean().optional().describe("LOWER_UP is set (the link has carrier)"),
  name_assign_type: z
    .number()
    .int()
    .min(0)
    .max(4)
    .optional()
    .describe(
      "/sys/class/net/NAME/name_assign_type: 0 unknown, 1 enum, 2 predictable, 3 user, 4 renamed",
    ),
});
/** A PCI device as QEMU's query-pci sees it: present on the guest's bus, or hidden by QEMU. */
const ExpectDevice = z.strictObject({
  kernels: Kernels,
  device: DeviceId.describe("A virtio-net or pci-nic of devices:"),
  present: z.boolean().optional().describe("On the guest's PCI bus at the end"),
  hidden: z
    .boolean()
    .optional()
    .describe("Added to the VM but hidden by QEMU (a failover primary waiting for STANDBY)"),
});
const ExpectLog = z.strictObject({
  kernels: Kernels,
  log: z.string().describe("A regular expression some kernel log (dmesg) line matches"),
});
const ExpectNoLog = z.strictObject({
  kernels: Kernels,
  no_log: z.string().describe("A regular expression no kernel log (dmesg) line matches"),
});

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
export const ExploreDoc = z
  .strictObject({
    invariants: z
      .array(InvariantNameDoc)
      .min(1)
      .optional()
      .describe(
        "The invariants to check (default: every built-in one; add expect for this file's expect: list)",
      ),
    timing: z
      .enum(["any", "strict", "free"])
      .optional()
      .describe(
        "any (default): every ready actor may go next; strict: virtual-time order, ties explored; free: no decision depends on a time (every kind of kernel work, linkwatch's two runs and bring-up's pick are choices)",
      ),
  })
  .describe("Defaults for ifsim explore on this scenario (the command line overrides them)");

/** When a scenario's steps start. */
export const ScriptStarts = z
  .enum(["quiescent", "boot"], { error: 'expected "quiescent" or "boot"' })
  .describe(
    "When the steps start. quiescent (default): once boot is over, as on a real machine: the " +
      "kernel's deferred work (virtio config work, linkwatch, driver link-up work) has run and " +
      "no kernel work is pending; the timeline shows the moment. boot: at power-on (virtual " +
      "time 0), racing that work. Actors (udev, bring-up, cloud-init) run from boot either way.",
  );

/** A whole scenario file. */
export const Scenario = z.strictObject({
  ifsim: z
    .literal(1, { error: "expected ifsim: 1 (the format version)" })
    .describe("The format version: 1"),
  name: z.string().min(1).describe("What the scenario shows, in one line"),
  description: z.string().optional().describe("Longer prose about the scenario"),
  kernel: z
    .string()
    .optional()
    .describe(
      'Kernel version ("5.0", "6.1", …; ifsim kernels lists them): selects the behaviour profile. --kernel overrides it',
    ),
  kernels: z
    .array(z.string())
    .min(1)
    .optional()
    .describe(
      "Kernel versions ifsim run runs the scenario on, one after the other, when no --kernel is given (then a verdict line per kernel); kernel: stays the default of the commands that take one kernel",
    ),
  uek_takeover_delay_ms: Ms.optional().describe(
    "Oracle UEK5's net_failover takeover_delay, ms: a hot-plugged primary is opened this much later (absent: mainline)",
  ),
  default_qdisc: z
    .string()
    .optional()
    .describe("sysctl net.core.default_qdisc of the guest (default fq_codel, Debian's)"),
  modules: z
    .array(GuestModule)
    .optional()
    .describe("Guest modules loaded at boot, in order (default: all); a modprobe step loads more"),
  seed: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe("Seed of the scheduler's ties and the kernel's RNG (default 1); --seed overrides it"),
  devices: z.array(Device).optional().describe("The machine's network devices, in PCI probe order"),
  machine: z
    .enum(["q35", "i440fx"])
    .optional()
    .describe(
      "The QEMU machine type (default q35): q35 puts hot-pluggable NICs behind PCIe root ports and has no firmware hot-plug slots (udev names enp0s3, enp1s0); i440fx keeps every NIC on bus 0 with ACPI hot-plug slots (ens3). The qemu backend builds q35 only",
    ),
  udev: Udev.optional(),
  bringup: Bringup.optional(),
  cloud_init: CloudInit.optional(),
  explore: ExploreDoc.optional(),
  script_starts: ScriptStarts.optional(),
  steps: z.array(Step).describe("What happens, in order (a step starts when the previous ended)"),
  expect: z
    .array(Expect)
    .optional()
    .describe("What must hold after the run; a failed expectation makes ifsim run exit 1"),
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
    description: "A machine, its userspace and what happens to it (docs/scenario-format.md).",
  };
}
