// A generic Ethernet driver for tests: carrier on when opened, and an ndo_open that can be
// told to fail with a given errno (the way a real NIC's open can fail).

import { allocNetdev, registerNetdev } from "../dev.ts";
import type { KRet, NegErrno } from "../errno.ts";
import type { Kernel, NetDriver } from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import { NET_NAME, type NetDevice, privOf } from "../netdevice.ts";

/** Driver name of the generic test NIC. */
export const GENERIC_ETH = "generic-eth";

/**
 * ndo_open fails with `priv.openError` when set (a negative errno); otherwise the carrier
 * comes up (linkwatch follows). ndo_stop drops the carrier.
 */
export const GENERIC_ETH_DRIVER: NetDriver = {
  name: GENERIC_ETH,
  ops: {
    ethValidateAddr: true,
    ethMacAddr: true,
    ndoOpen(k: Kernel, dev: NetDevice): KRet {
      const e = dev.priv.openError;
      if (typeof e === "number" && e < 0) return e as NegErrno;
      netifCarrierOn(k, dev);
      return 0;
    },
    ndoStop(k: Kernel, dev: NetDevice): void {
      netifCarrierOff(k, dev);
    },
  },
};

/** Options for `genericEthCreate`. */
export interface GenericEthOptions {
  readonly mac: string;
  readonly name?: string;
  /** Make ndo_open fail with this errno. */
  readonly openError?: NegErrno;
  readonly parent?: NetDevice["parent"];
}

/**
 * Allocates ("eth%d", NET_NAME_ENUM unless a name is given) and registers a generic NIC with a
 * permanent MAC. Returns the device or register_netdev's error.
 * @kernel alloc_etherdev() + register_netdev(), as a PCI NIC's probe does
 */
export function genericEthCreate(k: Kernel, o: GenericEthOptions): NetDevice | NegErrno {
  if (!k.registry.drivers.has(GENERIC_ETH)) k.registry.drivers.set(GENERIC_ETH, GENERIC_ETH_DRIVER);
  const dev = allocNetdev(k, {
    name: o.name ?? "eth%d",
    nameAssignType: o.name ? NET_NAME.USER : NET_NAME.ENUM,
    driver: GENERIC_ETH,
    parent: o.parent ?? null,
  });
  dev.devAddr = o.mac;
  dev.carrier = false;
  if (o.openError !== undefined) privOf(dev).openError = o.openError;
  const ret = registerNetdev(k, dev);
  if (ret) return ret;
  return dev;
}

/** Changes what the next ndo_open of a generic NIC returns (0 = succeed). */
export function genericEthSetOpenError(dev: NetDevice, e: NegErrno | 0): void {
  privOf(dev).openError = e;
}

/** Simulates the link partner: carrier on/off as the PHY reports it. */
export function genericEthSetLink(k: Kernel, dev: NetDevice, up: boolean): void {
  if (up) netifCarrierOn(k, dev);
  else netifCarrierOff(k, dev);
}

void NET_NAME;
