// net/core/net-sysfs.c: the /sys/class/net/<name>/<attr> files udev and scripts read.

import { devGetByName } from "./dev.ts";
import { err, type NegErrno } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import { linkwatchSyncDev } from "./link-watch.ts";
import { IF_OPER, NET_NAME, type NetDevice } from "./netdevice.ts";
import { devGetIflink } from "./rtnl-msg.ts";

const OPERSTATES = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"];

/** The attributes the model serves, in `ls` order of a real 6.1 net class directory. */
export const NET_SYSFS_ATTRS = [
  "addr_assign_type",
  "address",
  "carrier",
  "carrier_changes",
  "carrier_down_count",
  "carrier_up_count",
  "dev_id",
  "dev_port",
  "flags",
  "ifindex",
  "iflink",
  "mtu",
  "name_assign_type",
  "operstate",
  "phys_port_name",
  "tx_queue_len",
  "type",
] as const;

/** What reading a sysfs attribute gives: the text (with its newline) or a negative errno. */
export type SysfsRead = { readonly text: string } | { readonly errno: NegErrno };

function running(dev: NetDevice): boolean {
  return dev.running;
}

/**
 * Reads /sys/class/net/<ifname>/<attr>. A missing device or attribute is -ENOENT; the
 * attribute handlers return the kernel's errors (carrier of a down device -EINVAL,
 * phys_port_name without the driver op -EOPNOTSUPP, name_assign_type NET_NAME_UNKNOWN -EINVAL).
 * @kernel net/core/net-sysfs.c (carrier_show, name_assign_type_show, phys_port_name_show, …)
 */
export function netSysfsRead(k: Kernel, ifname: string, attr: string): SysfsRead {
  const dev = devGetByName(k, ifname);
  if (!dev || dev.name !== ifname) return { errno: err("ENOENT") };
  const line = (v: string | number): SysfsRead => ({ text: `${v}\n` });
  switch (attr) {
    case "addr_assign_type":
      return line(dev.addrAssignType);
    case "address":
      return line(dev.devAddr);
    case "carrier":
      if (!running(dev)) return { errno: err("EINVAL") };
      // v6.8+ (facd15dfd691): a running, present device's pending linkwatch event runs first.
      if (k.profile.linkwatchSyncOnQuery && dev.present) linkwatchSyncDev(k, dev);
      return line(dev.carrier ? 1 : 0);
    case "carrier_changes":
      return line(dev.carrierUpCount + dev.carrierDownCount);
    case "carrier_up_count":
      return line(dev.carrierUpCount);
    case "carrier_down_count":
      return line(dev.carrierDownCount);
    case "dev_id":
      return line("0x0");
    case "dev_port":
      return line(0);
    case "flags":
      return line(`0x${(dev.flags & ~0).toString(16)}`);
    case "ifindex":
      return line(dev.ifindex);
    case "iflink":
      return line(devGetIflink(k, dev));
    case "mtu":
      return line(dev.mtu);
    case "name_assign_type":
      return dev.nameAssignType === NET_NAME.UNKNOWN
        ? { errno: err("EINVAL") }
        : line(dev.nameAssignType);
    case "operstate":
      return line(OPERSTATES[running(dev) ? dev.operstate : IF_OPER.DOWN] ?? "unknown");
    case "phys_port_name": {
      const op = k.registry.drivers.get(dev.driver)?.ops.ndoGetPhysPortName;
      if (!op) return { errno: err("EOPNOTSUPP") };
      const r = op(k, dev);
      return typeof r === "string" ? line(r) : { errno: r };
    }
    case "tx_queue_len":
      return line(dev.txQueueLen);
    case "type":
      return line(dev.type);
    default:
      return { errno: err("ENOENT") };
  }
}
