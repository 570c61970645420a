// The kernel model's public surface: the only kernel file that outer layers import.

export * from "./addrconf.ts";
export { createKernel, type KernelOptions, rtnetlinkEvent } from "./boot.ts";
export * from "./dev.ts";
export {
  GENERIC_ETH,
  genericEthCreate,
  genericEthSetLink,
  genericEthSetOpenError,
} from "./drivers/generic-eth.ts";
export * from "./drivers/net-failover.ts";
export * from "./drivers/pci-nic.ts";
export * from "./drivers/virtio-net.ts";
export {
  Errno,
  type ErrnoName,
  err,
  errnoName,
  isNegErrno,
  type KRet,
  type NegErrno,
} from "./errno.ts";
export * from "./failover.ts";
export * from "./kernel.ts";
export * from "./link-watch.ts";
export * from "./net-sysfs.ts";
export * from "./netdevice.ts";
export * from "./notifier.ts";
export * from "./pci.ts";
export * from "./profile.ts";
export * from "./rtnetlink.ts";
export * from "./rtnl-msg.ts";
export * from "./sch-generic.ts";
export {
  type KernelPartsSame,
  type KernelSnapshot,
  loadKernel,
  saveKernel,
} from "./snapshot.ts";
export type * from "./trace-events.ts";
export * from "./virtio.ts";
export * from "./xmit.ts";
