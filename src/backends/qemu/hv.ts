// What the host expects the guest to see, so that it knows what to wait for after a step: which
// devices are in the VM, which failover primaries QEMU keeps hidden, which guest modules are
// loaded, and from that how many netdevs each PCI function has. Pure. The rules are QEMU 7.2's
// (hw/net/virtio-net.c failover): a primary is hidden when it is added while its standby is in
// the VM and has not negotiated VIRTIO_NET_F_STANDBY; the guest negotiates when virtio_net binds
// the standby; then QEMU plugs the hidden primary (FAILOVER_NEGOTIATED).

import type { QemuLayout, QemuNic } from "./layout.ts";

export class HostView {
  readonly #layout: QemuLayout;
  readonly present = new Set<string>();
  readonly hidden = new Set<string>();
  readonly negotiated = new Set<string>();
  readonly loaded = new Set<string>();
  /** Devices whose backend link is off (QMP set_link). */
  readonly linkOff = new Set<string>();

  /** The state right after boot with `modules` loaded. */
  constructor(layout: QemuLayout, modules: readonly string[]) {
    this.#layout = layout;
    for (const n of layout.nics) if (n.atBoot) this.present.add(n.id);
    for (const n of layout.nics)
      if (n.atBoot && n.pairedWith !== null && this.present.has(n.pairedWith))
        this.hidden.add(n.id);
    for (const id of layout.linkOffAtBoot) this.linkOff.add(id);
    for (const m of modules) this.load(m);
  }

  nic(id: string): QemuNic {
    const n = this.#layout.nics.find((x) => x.id === id);
    if (!n) throw new Error(`no device "${id}"`);
    return n;
  }

  get virtioBound(): boolean {
    return this.loaded.has("virtio_pci") && this.loaded.has("virtio_net");
  }

  /** The guest binds every present standby: it negotiates, QEMU plugs its hidden primaries. */
  #negotiate(): void {
    if (!this.virtioBound) return;
    for (const id of this.present) {
      const n = this.nic(id);
      if (n.type !== "virtio-net" || n.props.failover !== true) continue;
      this.negotiated.add(id);
      for (const h of [...this.hidden]) if (this.nic(h).pairedWith === id) this.hidden.delete(h);
    }
  }

  /** A module is loaded (at boot or by a modprobe step). */
  load(m: string): void {
    this.loaded.add(m);
    this.#negotiate();
  }

  /** QMP device_add. */
  plug(id: string): void {
    const n = this.nic(id);
    this.present.add(id);
    if (
      n.pairedWith !== null &&
      this.present.has(n.pairedWith) &&
      !this.negotiated.has(n.pairedWith)
    )
      this.hidden.add(id);
    if (!n.link) this.linkOff.add(id);
    this.#negotiate();
  }

  /** QMP device_del (DEVICE_DELETED seen). */
  unplug(id: string): void {
    this.present.delete(id);
    this.hidden.delete(id);
    this.negotiated.delete(id);
  }

  /** Netdevs each PCI function should have now ("0000:01:00.0=1"); 0 = none, or no function. */
  expected(): string[] {
    return this.#layout.nics.map((n) => {
      let want = 0;
      if (this.present.has(n.id) && !this.hidden.has(n.id)) {
        if (n.type === "virtio-net") want = this.virtioBound ? n.netdevs : 0;
        else want = this.loaded.has("e1000e") ? 1 : 0;
      }
      return `${n.guestAddr}=${want}`;
    });
  }

  /** Guest PCI addresses of the devices whose link is off. */
  linkOffAddrs(): string[] {
    return [...this.linkOff].map((id) => this.nic(id).guestAddr);
  }
}
