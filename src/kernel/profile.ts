// Kernel version profiles: which behaviour of net/core the model follows (spec §A).

/**
 * Behaviour era of the rename / failover code (spec §A).
 * - E0: v4.18 .. v5.0 — an UP device can never be renamed.
 * - E1: v5.1 .. v6.1 — IFF_LIVE_RENAME_OK (set on failover slaves) allows renaming an UP device.
 * - E2: v6.2+ — any UP device can be renamed; the log says "(while UP)".
 */
export type Era = "E0" | "E1" | "E2";

/** How `dev_change_name` treats an UP device (rule R1). */
export type RenameWhileUp = "never" | "flag" | "always";

/** Every behaviour switch of the model that depends on the kernel version. */
export interface KernelProfile {
  /** The version string the profile was chosen with, normalised to "major.minor". */
  readonly version: string;
  readonly era: Era;
  /** R1: E0 never, E1 only with IFF_LIVE_RENAME_OK, E2 always. */
  readonly renameWhileUp: RenameWhileUp;
  /** v5.5+: alternative names exist and take part in name lookups and collisions. */
  readonly altnames: boolean;
  /** ~v6.7+: `%d` allocation returns 0 instead of the unit number, and scans altnames too. */
  readonly allocNameReturnsZero: boolean;
  /** E2: "renamed from %s%s" with " (while UP)". */
  readonly renameLogWhileUp: boolean;
  /** Older trees log the rollback failure with pr_err("%s: ...") instead of netdev_err. */
  readonly rollbackLogPrErr: boolean;
  /** N5: on a failed replay, newer kernels unwind the already-replayed devices in reverse order. */
  readonly notifierReplayUnwindReverse: boolean;
  /** v5.6+: RTM_NEWLINK carries IFLA_PERM_ADDRESS. */
  readonly permAddrAttr: boolean;
  /** v5.15+: RTM_NEWLINK carries IFLA_PARENT_DEV_NAME / IFLA_PARENT_DEV_BUS_NAME. */
  readonly parentDevAttr: boolean;
  /**
   * RTM_NEWLINK carries IFLA_GRO_MAX_SIZE (eac1b93c14d6, v5.17) and IFLA_TSO_MAX_SIZE /
   * IFLA_TSO_MAX_SEGS (89527be8d8d6, v5.19). No profile lies between 5.15 and 6.1, so one flag,
   * taken as v5.19. Measured: Debian's 5.10 sends neither (`ip -d link`: gso_max_segs is the last).
   */
  readonly groTsoMaxAttrs: boolean;
  /**
   * v6.1+: RTM_NEWLINK carries IFLA_ALLMULTI ("rtnetlink: advertise allmulti counter",
   * N. Dichtel, net-next Sep 2022). Measured: Debian's 6.1 sends it, 5.10 does not.
   */
  readonly allmultiAttr: boolean;
  /**
   * v5.19+: alloc_etherdev names devices NET_NAME_ENUM ("net/ethernet: set default assignment
   * identifier to NET_NAME_ENUM"); before, NET_NAME_UNKNOWN (sysfs name_assign_type: -EINVAL).
   */
  readonly etherdevNameEnum: boolean;
  /**
   * A failed driver probe is logged with dev_err "probe with driver %s failed with error %d"
   * (2024, taken as v6.10) instead of pr_warn "%s: probe of %s failed with error %d".
   */
  readonly probeFailDevErr: boolean;
  /** Before v6.5 addrconf logs "IPv6: ADDRCONF(NETDEV_CHANGE): %s: link becomes ready" (pr_info). */
  readonly addrconfLinkReadyLog: boolean;
  /**
   * rtnl_newlink() validates a veth peer's attributes itself (rtnl_get_peer_net() with
   * ops->peer_type, right after ops->validate of the device), so a bad peer address fails before
   * the device lookup (-EEXIST) and before the device's rtnl_create_link checks. Measured on
   * 6.18; the peer_type rework ("rtnetlink: Add peer_type in struct rtnl_link_ops", early 2025)
   * is taken as v6.14 — no profile between 6.12 and 6.18 exists, so only 6.18 has it. Before,
   * veth_newlink() validated the peer after both.
   */
  readonly rtnlValidatesPeer: boolean;
  /**
   * virtio_net keeps operstate in step with the admin state: config-change notifications are
   * off from probe until ndo_open, which turns the carrier on from the last status read and
   * runs a config change that came meanwhile; ndo_stop turns them off again, cancels the config
   * work and turns the carrier off. "virtio-net: synchronize operstate with admin state on
   * up/down" (df28de7b0050, v6.12; 6.11.y stable). Its probe still read the status itself, under
   * RTNL, until "virtio-net: fix recursived rtnl_lock() during probe()" (be5dcaed694e, v6.16;
   * 6.12.y stable, in Debian's 6.12.118) made the probe only mark the config change pending: a
   * virtio NIC then has no carrier until its first open. The 6.12 profile follows 6.12.y as
   * Debian ships it (both; measured in the qemu guest), 6.18 mainline (both).
   */
  readonly virtioNetConfigAtOpen: boolean;
  /**
   * v6.8+: a query of one device's carrier first runs that device's pending linkwatch event
   * (RTM_GETLINK for one device, sysfs `carrier` of a running device, ethtool's get-link): "net:
   * core: synchronize link-watch when carrier is queried" (facd15dfd691, v6.8). When the
   * linkwatch work is late (a loaded machine), `ip link set dev X …` — which looks X up by
   * name first — prints X's carrier record before the work's others. Measured on 6.18.
   */
  readonly linkwatchSyncOnQuery: boolean;
  /** Opt-in, not mainline: Oracle UEK5 net_failover `takeover_delay` in ms (null = mainline). */
  readonly takeoverDelayMs: number | null;
}

interface VersionRow {
  readonly minor: string;
  readonly note: string;
}

/** Versions with a profile, oldest first. */
const VERSIONS: readonly VersionRow[] = [
  { minor: "4.18", note: "failover introduced; UP devices cannot be renamed" },
  { minor: "4.19", note: "E0 (mainline 4.19, before the stable backport of the seed)" },
  { minor: "5.0", note: "E0" },
  { minor: "5.1", note: "E1: IFF_LIVE_RENAME_OK (the seed patch)" },
  { minor: "5.4", note: "E1" },
  { minor: "5.5", note: "E1 + altnames" },
  { minor: "5.10", note: "E1" },
  { minor: "5.15", note: "E1" },
  { minor: "6.1", note: "E1 (last release with IFF_LIVE_RENAME_OK)" },
  { minor: "6.2", note: "E2: any UP device may be renamed" },
  { minor: "6.6", note: "E2" },
  { minor: "6.7", note: "E2 + %d rename returns 0" },
  { minor: "6.12", note: "E2" },
  { minor: "6.18", note: "E2 (the host kernel of this project's machines)" },
];

/** The version strings `profileFor` accepts (major.minor; a patch level or suffix may follow). */
export const SUPPORTED_KERNELS: readonly string[] = VERSIONS.map((v) => v.minor);

/** Thrown by `profileFor` for a version the model has no profile for (bad input, not a bug). */
export class UnknownKernelError extends Error {
  override readonly name = "UnknownKernelError";
}

function cmp(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * Chooses the behaviour profile for a kernel version string.
 * Accepts "6.1", "6.1.0", "6.1.0-56-amd64", "4.19.71"; the major.minor part must be supported.
 * @throws UnknownKernelError listing the supported versions.
 * @example profileFor("5.0").era // "E0"
 */
export function profileFor(
  version: string,
  opts: { takeoverDelayMs?: number | null } = {},
): KernelProfile {
  const m = /^(\d+)\.(\d+)(?:[.\-+~].*)?$/.exec(version.trim());
  const row = m ? VERSIONS.find((v) => v.minor === `${Number(m[1])}.${Number(m[2])}`) : undefined;
  if (!m || !row) {
    throw new UnknownKernelError(
      `Unknown kernel version "${version}": supported versions are ${SUPPORTED_KERNELS.join(", ")}`,
    );
  }
  const v: [number, number] = [Number(m[1]), Number(m[2])];
  const atLeast = (maj: number, min: number) => cmp(v, [maj, min]) >= 0;
  const era: Era = atLeast(6, 2) ? "E2" : atLeast(5, 1) ? "E1" : "E0";
  return {
    version: row.minor,
    era,
    renameWhileUp: era === "E0" ? "never" : era === "E1" ? "flag" : "always",
    altnames: atLeast(5, 5),
    allocNameReturnsZero: atLeast(6, 7),
    renameLogWhileUp: era === "E2",
    // "net-core: use netdev_* calls for kernel messages" (J. Brandeburg, net-next Oct 2021 → v5.16).
    rollbackLogPrErr: !atLeast(5, 16),
    notifierReplayUnwindReverse: atLeast(5, 7),
    permAddrAttr: atLeast(5, 6),
    parentDevAttr: atLeast(5, 15),
    groTsoMaxAttrs: atLeast(5, 19),
    allmultiAttr: atLeast(6, 1),
    // "ipv6: lower "link become ready"'s level" (M. Baerts, net-next June 2023 → v6.5).
    addrconfLinkReadyLog: !atLeast(6, 5),
    rtnlValidatesPeer: atLeast(6, 14),
    etherdevNameEnum: atLeast(5, 19),
    probeFailDevErr: atLeast(6, 10),
    virtioNetConfigAtOpen: atLeast(6, 12),
    linkwatchSyncOnQuery: atLeast(6, 8),
    takeoverDelayMs: opts.takeoverDelayMs ?? null,
  };
}

/** One line per supported version, for `--help` and error messages. */
export function describeKernels(): string[] {
  return VERSIONS.map((v) => `${v.minor.padEnd(5)} ${v.note}`);
}
