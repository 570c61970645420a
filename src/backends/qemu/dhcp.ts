// Known bug 08's DHCP half on real code (tools/qemu-capture/dhcp-leases.ts, and
// test/conformance/qemu-dhcp.test.ts): the scenario's guest with every NIC on QEMU's user network
// (one hub: slirp's DHCP server, which hands an address out per client MAC), then what the
// scenario's bring-up actor does, with a real DHCP client: on every link its `bringup.links` globs
// match and that udev left managed (no NM_UNMANAGED=1, no ID_NET_MANAGED_BY of another manager,
// as userspace/bringup.ts decides), `ip link set up` and busybox's udhcpc (the guest's static
// busybox, 1.35 from the host's Debian busybox-static). A lease per link, counted per MAC.
//
// The guest runs no bring-up daemon: the links are taken one after the other once udev is
// settled, not as their uevents arrive. The count of DHCP clients per MAC is what is compared with
// the model; when each started is not.

import type { ScenarioDoc } from "../../scenario/schema.ts";
import { BRINGUP_MANAGED_BY } from "../../userspace/bringup.ts";
import { globMatches } from "../../userspace/glob.ts";
import { LiveGuest } from "./live.ts";

/** One link of the guest and what its DHCP client got. */
export interface DhcpLink {
  readonly name: string;
  readonly mac: string;
  /** udev left it to another manager (NM_UNMANAGED=1 or ID_NET_MANAGED_BY naming another). */
  readonly unmanaged: boolean;
  /** "not run" (not selected or unmanaged), "no lease", or the address leased. */
  readonly dhcp: string;
  /** udhcpc's output. */
  readonly log: string;
}

/** The measurement: every link (lo aside), and the leases per MAC. */
export interface DhcpMeasurement {
  readonly kernel: string;
  readonly links: DhcpLink[];
  readonly leasesPerMac: Record<string, number>;
}

/** The manager the bring-up actor is (the model's BringupActor). */
const MANAGED_BY_US = BRINGUP_MANAGED_BY;

/**
 * Boots `sc` (its `bringup:` is the selection; the guest runs none), runs udhcpc on each selected
 * managed link, powers the guest off.
 * @throws BackendRefusal for what the qemu backend refuses.
 */
export async function measureDhcpLeases(
  sc: ScenarioDoc,
  o: { kernel?: string | null; log?: (l: string) => void } = {},
): Promise<DhcpMeasurement> {
  const bringup = typeof sc.bringup === "object" ? sc.bringup : null;
  const globs = bringup?.links ?? ["*"];
  const { guest } = await LiveGuest.start(
    { ...sc, bringup: "none" },
    { kernel: o.kernel ?? null, network: "user", ...(o.log ? { log: o.log } : {}) },
  );
  try {
    const names = (await guest.sh("ls /sys/class/net")).stdout
      .split(/\s+/)
      .filter((n) => n !== "" && n !== "lo");
    const links: DhcpLink[] = [];
    for (const name of names) {
      const mac = (await guest.sh(`cat /sys/class/net/${name}/address`)).stdout.trim();
      const info = await guest.sh(`udevadm info -q property /sys/class/net/${name}`);
      if (info.status !== 0)
        throw new Error(`udevadm info ${name} in the guest: exit ${info.status}: ${info.stderr}`);
      const props = info.stdout;
      const by = /^ID_NET_MANAGED_BY=(.*)$/m.exec(props)?.[1];
      const unmanaged =
        /^NM_UNMANAGED=1$/m.test(props) || (by !== undefined && by !== MANAGED_BY_US);
      let dhcp = "not run";
      let log = "";
      if (!unmanaged && globs.some((g) => globMatches(g, name))) {
        await guest.sh(`ip link set ${name} up`);
        // -q: quit once leased; -n: fail when none; 4 discovers 2 s apart; -s /bin/true: the
        // address is not configured (three links with one address would fight over routes)
        const r = await guest.sh(`udhcpc -i ${name} -f -q -n -t 4 -T 2 -s /bin/true 2>&1`);
        log = r.stdout;
        dhcp = /lease of (\S+) obtained/.exec(r.stdout)?.[1] ?? "no lease";
      }
      links.push({ name, mac, unmanaged, dhcp, log });
    }
    const leasesPerMac: Record<string, number> = {};
    for (const l of links)
      if (l.dhcp !== "not run" && l.dhcp !== "no lease")
        leasesPerMac[l.mac] = (leasesPerMac[l.mac] ?? 0) + 1;
    return { kernel: guest.kernel, links, leasesPerMac };
  } finally {
    await guest.stop();
  }
}

/** The model's DHCP clients per MAC, from a run record's timeline (userspace/bringup.ts). */
export function modelDhcpClients(
  timeline: readonly { readonly what: string; readonly result: string }[],
): Record<string, number> {
  const per: Record<string, number> = {};
  for (const t of timeline) {
    if (!t.what.endsWith(": DHCPv4 client started")) continue;
    const mac = /^MAC (\S+)/.exec(t.result)?.[1];
    if (mac !== undefined) per[mac] = (per[mac] ?? 0) + 1;
  }
  return per;
}
