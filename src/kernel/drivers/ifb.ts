// drivers/net/ifb.c: the Intermediate Functional Block device (rtnl kind "ifb").

import { allocNetdev, ethHwAddrRandom, GSO_MAX_SIZE, registerNetdevice } from "../dev.ts";
import { err } from "../errno.ts";
import type { Kernel, NetDriver, RtnlLinkOps } from "../kernel.ts";
import { IFF, IFF_PRIV } from "../netdevice.ts";
import { addrLen } from "../rtnetlink.ts";

/** ifb's tx queue length (TX_Q_LEN). */
export const IFB_TX_Q_LEN = 32;

/** The ifb driver: no carrier handling (carrier stays on, operstate UNKNOWN when up). */
export const IFB_DRIVER: NetDriver = {
  name: "ifb",
  // No ndo_set_mac_address: every address change is -EOPNOTSUPP (measured on 6.18).
  ops: { ethValidateAddr: true },
};

/**
 * rtnl_link_ops for "ifb".
 * @kernel ifb_setup() / ifb_validate() in drivers/net/ifb.c
 */
export const IFB_LINK_OPS: RtnlLinkOps = {
  kind: "ifb",
  setup(k, name, nameAssignType) {
    const dev = allocNetdev(k, { name, nameAssignType, driver: "ifb", kind: "ifb" });
    dev.flags = (dev.flags | IFF.NOARP) & ~IFF.MULTICAST;
    dev.privFlags |= IFF_PRIV.IFF_LIVE_ADDR_CHANGE;
    dev.txQueueLen = IFB_TX_Q_LEN;
    dev.minMtu = 0;
    dev.maxMtu = 0;
    ethHwAddrRandom(k, dev);
    dev.tsoMaxSize = GSO_MAX_SIZE; // netif_set_tso_max_size(dev, GSO_MAX_SIZE)

    return dev;
  },
  validate(_k, attrs) {
    if (attrs.address !== undefined) {
      if (addrLen(attrs.address) !== 6) return err("EINVAL");
      const first = Number.parseInt(attrs.address.slice(0, 2), 16);
      if (attrs.address === "00:00:00:00:00:00" || first & 1) return err("EADDRNOTAVAIL");
    }
    return 0;
  },
  newlink(k: Kernel, dev) {
    return registerNetdevice(k, dev);
  },
};
