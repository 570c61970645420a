// drivers/net/ifb.c: the Intermediate Functional Block device (rtnl kind "ifb").

import { allocNetdev, ethHwAddrRandom, GSO_MAX_SIZE, registerNetdevice } from "../dev.ts";
import { err } from "../errno.ts";
import type { Kernel, NetDriver, RtnlLinkOps } from "../kernel.ts";
import { IFF, IFF_PRIV, statsOf } from "../netdevice.ts";
import { addrLen } from "../rtnetlink.ts";

/** ifb's tx queue length (TX_Q_LEN). */
export const IFB_TX_Q_LEN = 32;

/**
 * The ifb driver: no carrier handling (carrier stays on, operstate UNKNOWN when up). A frame
 * sent on it is counted as received; one that no tc action redirected to it (every frame the
 * model sends: it has no tc) is then dropped and counted as an rx drop (measured on 6.18: IPv6's
 * router solicitation at link-up shows as RX 70 bytes, 1 packet, 1 dropped).
 * @kernel ifb_xmit() in drivers/net/ifb.c (!skb->redirected: dev->stats.rx_dropped++)
 */
export const IFB_DRIVER: NetDriver = {
  name: "ifb",
  // No ndo_set_mac_address: every address change is -EOPNOTSUPP (measured on 6.18).
  ops: {
    ethValidateAddr: true,
    ndoStartXmit(_k, dev, batch) {
      const st = statsOf(dev);
      st.rxPackets += batch.frames;
      st.rxBytes += batch.frames * batch.size;
      st.rxDropped += batch.frames;
      return {
        sentOn: null,
        dropped: batch.frames,
        droppedBy: `${dev.name} (ifb: not redirected)`,
      };
    },
  },
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
