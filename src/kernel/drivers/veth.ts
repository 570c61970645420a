// drivers/net/veth.c: virtual Ethernet pairs (rtnl kind "veth").

import {
  allocNetdev,
  ethHwAddrRandom,
  GSO_MAX_SIZE,
  registerNetdevice,
  unregisterNetdeviceMany,
} from "../dev.ts";
import { err, type KRet } from "../errno.ts";
import type { ExtAck, Kernel, LinkAttrs, NetDriver, RtnlLinkOps } from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import {
  coreStatsOf,
  IFF,
  IFF_PRIV,
  type LinkStats,
  NET_NAME,
  type NetDevice,
  privOf,
  statsOf,
  zeroStats,
} from "../netdevice.ts";
import { addrLen, rtnlConfigureLink, rtnlCreateLink } from "../rtnetlink.ts";
import { netifReceive } from "../xmit.ts";

/** ETH_ALEN. */
const ETH_ALEN = 6;

/** ETH_MAX_MTU. */
const ETH_MAX_MTU = 0xffff;

/** ETH_HLEN + VLAN_HLEN: what a forwarded frame may carry beyond the receiver's MTU. */
const FORWARD_SLACK = 14 + 4;

function peerOf(k: Kernel, dev: NetDevice): NetDevice | undefined {
  const p = dev.priv.peer;
  return typeof p === "number" ? k.state.devices.get(p) : undefined;
}

/**
 * The veth driver: opening one end turns on the carrier of both when the peer is up;
 * closing turns both off; IFLA_LINK is the peer's ifindex (0 while unpaired).
 * @kernel veth_open() / veth_close() / veth_get_iflink() in drivers/net/veth.c
 */
export const VETH_DRIVER: NetDriver = {
  name: "veth",
  ops: {
    ethValidateAddr: true,
    ethMacAddr: true,
    ndoOpen(k, dev) {
      const peer = peerOf(k, dev);
      if (!peer) return err("ENOTCONN");
      if (peer.flags & IFF.UP) {
        netifCarrierOn(k, dev);
        netifCarrierOn(k, peer);
      }
      return 0;
    },
    ndoStop(k, dev) {
      const peer = peerOf(k, dev);
      netifCarrierOff(k, dev);
      if (peer) netifCarrierOff(k, peer);
    },
    ndoGetIflink(k, dev) {
      const peer = peerOf(k, dev);
      return peer ? peer.ifindex : 0;
    },
    /**
     * A frame goes to the peer's receive path. Counted as sent when the peer takes it; when the
     * peer is down or the frame is longer than its MTU allows, the peer counts an rx drop and
     * this end a tx drop (as with no peer at all).
     * @kernel veth_xmit() → veth_forward_skb() → __dev_forward_skb() (is_skb_forwardable())
     */
    ndoStartXmit(k, dev, batch) {
      const peer = peerOf(k, dev);
      const ok =
        peer !== undefined && (peer.flags & IFF.UP) !== 0 && batch.size <= peer.mtu + FORWARD_SLACK;
      if (!ok) {
        if (peer) coreStatsOf(peer).rxDropped += batch.frames;
        privOf(dev).dropped = vethDropped(dev) + batch.frames;
        return { sentOn: null, dropped: batch.frames, droppedBy: `${dev.name} (veth: peer)` };
      }
      const st = statsOf(dev);
      st.txPackets += batch.frames;
      st.txBytes += batch.frames * batch.size;
      netifReceive(k, peer, batch);
      return { sentOn: dev.ifindex, dropped: 0, droppedBy: null };
    },
    /**
     * What a veth end reports: its own sent frames as tx, its peer's sent frames as rx (the
     * frames it received), and its drops as tx drops.
     * @kernel veth_get_stats64() in drivers/net/veth.c
     */
    ndoGetStats64(k, dev): LinkStats {
      const s = zeroStats();
      s.txPackets = dev.stats.txPackets;
      s.txBytes = dev.stats.txBytes;
      s.txDropped = vethDropped(dev);
      const peer = peerOf(k, dev);
      if (peer) {
        s.rxPackets = peer.stats.txPackets;
        s.rxBytes = peer.stats.txBytes;
      }
      return s;
    },
  },
};

/** The frames this end dropped on transmit (`veth_priv.dropped`). */
function vethDropped(dev: NetDevice): number {
  const d = dev.priv.dropped;
  return typeof d === "number" ? d : 0;
}

/**
 * @kernel veth_validate() in drivers/net/veth.c: bare -EADDRNOTAVAIL / -EINVAL, no extack
 * message (ip prints "RTNETLINK answers: …"; checked against 6.18 by `ifsim conform`)
 */
function vethValidate(attrs: LinkAttrs, extack: ExtAck): KRet {
  void extack;
  if (attrs.address !== undefined) {
    if (addrLen(attrs.address) !== ETH_ALEN) return err("EINVAL");
    const first = Number.parseInt(attrs.address.slice(0, 2), 16);
    if (attrs.address === "00:00:00:00:00:00" || first & 1) return err("EADDRNOTAVAIL");
  }
  if (attrs.mtu !== undefined && (attrs.mtu < 68 || attrs.mtu > ETH_MAX_MTU)) return err("EINVAL");
  return 0;
}

function vethSetup(
  k: Kernel,
  name: string,
  nameAssignType: NetDevice["nameAssignType"],
): NetDevice {
  // veth_get_num_queues(): one tx/rx queue per possible CPU.
  const q = Math.min(k.machine.cpus, 4096);
  const dev = allocNetdev(k, {
    name,
    nameAssignType,
    driver: "veth",
    kind: "veth",
    numTxQueues: q,
    numRxQueues: q,
  });
  dev.privFlags |= IFF_PRIV.IFF_LIVE_ADDR_CHANGE | IFF_PRIV.IFF_NO_QUEUE;
  dev.maxMtu = ETH_MAX_MTU;
  dev.tsoMaxSize = GSO_MAX_SIZE; // netif_set_tso_max_size(dev, GSO_MAX_SIZE)
  return dev;
}

/**
 * rtnl_link_ops for "veth": the peer is created and registered (and configured, so its
 * RTM_NEWLINK goes out) before the device itself; if the device then fails to register,
 * the peer is unregistered again.
 * @kernel veth_newlink() / veth_dellink() in drivers/net/veth.c
 */
export const VETH_LINK_OPS: RtnlLinkOps = {
  kind: "veth",
  setup: vethSetup,
  validate(_k, attrs, extack) {
    return vethValidate(attrs, extack);
  },
  newlink(k, dev, req, extack) {
    // Without VETH_INFO_PEER the peer is made from the device's own attributes (tbp = tb):
    // it inherits mtu, txqueuelen, broadcast and queue counts, but not the name, the address
    // (random) or the flags.
    const ifmp = req.peer !== undefined;
    const pattrs: LinkAttrs = req.peer ?? req.attrs;
    let ret = ifmp ? vethValidate(pattrs, extack) : 0;
    if (ret) return ret;
    const peerName = ifmp && pattrs.ifname !== undefined ? pattrs.ifname : "veth%d";
    const peerType = ifmp && pattrs.ifname !== undefined ? NET_NAME.USER : NET_NAME.ENUM;
    const peer = rtnlCreateLink(k, {
      kind: "veth",
      name: peerName,
      nameAssignType: peerType,
      attrs: pattrs,
      extack,
    });
    if (typeof peer === "number") return peer;
    if (!ifmp || pattrs.address === undefined) ethHwAddrRandom(k, peer);
    // The peer's requested index is honoured only when the device itself has one too.
    if (dev.ifindex !== 0 && req.peerIfindex) peer.ifindex = req.peerIfindex;
    ret = registerNetdevice(k, peer) as KRet;
    if (ret) return ret;
    netifCarrierOff(k, peer);
    // `peer … up`: opening the peer fails with -ENOTCONN (its own peer is not tied yet), and
    // err_configure_peer unregisters it (never announced).
    ret = rtnlConfigureLink(
      k,
      peer,
      ifmp ? { ifiFlags: req.peerIfiFlags ?? 0, ifiChange: req.peerIfiChange ?? 0 } : {},
    );
    if (ret) {
      unregisterNetdeviceMany(k, [peer]);
      return ret;
    }
    if (req.attrs.address === undefined) ethHwAddrRandom(k, dev);
    ret = registerNetdevice(k, dev) as KRet;
    if (ret) {
      unregisterNetdeviceMany(k, [peer]);
      return ret;
    }
    netifCarrierOff(k, dev);
    privOf(dev).peer = peer.ifindex;
    privOf(peer).peer = dev.ifindex;
    return 0;
  },
  dellink(k, dev, kill) {
    kill.push(dev);
    const peer = peerOf(k, dev);
    if (peer) {
      privOf(dev).peer = null;
      privOf(peer).peer = null;
      kill.push(peer);
    }
  },
};
