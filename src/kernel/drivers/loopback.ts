// drivers/net/loopback.c: `lo`, ifindex 1, registered first in every network namespace.

import { allocNetdev, GSO_MAX_SIZE, registerNetdev } from "../dev.ts";
import type { Kernel, NetDriver } from "../kernel.ts";
import { bugOn } from "../kernel.ts";
import { ARPHRD, IFF, IFF_PRIV, NET_NAME } from "../netdevice.ts";

/** The loopback driver (ethtool driver name "loopback" is not used; lo has none). */
export const LOOPBACK_DRIVER: NetDriver = { name: "loopback", ops: { ethMacAddr: true } };

/**
 * Creates and registers `lo` (MTU 65536, LOOPBACK, carrier on, noqueue).
 * @kernel loopback_net_init() / loopback_setup() in drivers/net/loopback.c
 */
export function loopbackNetInit(k: Kernel): void {
  if (!k.registry.drivers.has("loopback")) k.registry.drivers.set("loopback", LOOPBACK_DRIVER);
  const dev = allocNetdev(k, {
    name: "lo",
    nameAssignType: NET_NAME.PREDICTABLE,
    driver: "loopback",
  });
  dev.type = ARPHRD.LOOPBACK;
  dev.flags = IFF.LOOPBACK;
  dev.mtu = 65536;
  dev.minMtu = 0;
  dev.maxMtu = 0;
  dev.broadcast = "00:00:00:00:00:00";
  dev.tsoMaxSize = GSO_MAX_SIZE; // netif_set_tso_max_size(dev, GSO_MAX_SIZE)
  dev.privFlags |= IFF_PRIV.IFF_LIVE_ADDR_CHANGE | IFF_PRIV.IFF_NO_QUEUE;
  const ret = registerNetdev(k, dev);
  bugOn(ret !== 0 || dev.ifindex !== 1, `lo registration failed (${ret}, ifindex ${dev.ifindex})`);
}
