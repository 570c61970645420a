import { describe, expect, it } from "vitest";
import {
  devChangeName,
  devGetByName,
  klog,
  loadKernel,
  type NetDevice,
  saveKernel,
  virtioNetInit,
} from "../../src/kernel/index.ts";
import { boot, E1, veth } from "../_helpers/kernel.ts";

/** A booted kernel with a veth pair va/vb, and a snapshot of it. */
function vethPairSaved() {
  const k = boot(E1);
  veth(k, "va", "vb");
  const va = devGetByName(k, "va") as NetDevice;
  const vb = devGetByName(k, "vb") as NetDevice;
  return { k, va, vb, s1: saveKernel(k) };
}

describe("saveKernel / loadKernel", () => {
  it("should restore the state, the trace and the generator in place", () => {
    const k = boot(E1);
    const state = k.state;
    const trace = k.trace;
    const snap = saveKernel(k);
    const before = structuredClone(k.state);
    const len = k.trace.length;

    veth(k, "va", "vb");
    const macs = [devGetByName(k, "va")?.devAddr, devGetByName(k, "vb")?.devAddr];
    loadKernel(k, snap);

    expect(k.state).toBe(state);
    expect(k.trace).toBe(trace);
    expect(k.state).toEqual(before);
    expect(k.trace.length).toBe(len);
    expect(devGetByName(k, "va")).toBeUndefined();
    // The generator is back too: the same random MACs, the same ifindexes.
    veth(k, "va", "vb");
    expect([devGetByName(k, "va")?.devAddr, devGetByName(k, "vb")?.devAddr]).toEqual(macs);
  });

  it("should load the same snapshot more than once", () => {
    const k = boot(E1);
    veth(k, "va", "vb");
    const snap = saveKernel(k);

    devChangeName(k, devGetByName(k, "va") as NetDevice, "vc");
    loadKernel(k, snap);
    devChangeName(k, devGetByName(k, "va") as NetDevice, "vd");
    loadKernel(k, snap);

    expect(devGetByName(k, "va")).toBeDefined();
    expect(devGetByName(k, "vd")).toBeUndefined();
  });

  it("should keep the device records `keep` names and copy the others", () => {
    const k = boot(E1);
    veth(k, "va", "vb");
    const snap = saveKernel(k);
    const before = structuredClone(k.state);
    const va = devGetByName(k, "va") as NetDevice;
    const vb = devGetByName(k, "vb") as NetDevice;
    devChangeName(k, vb, "vc");
    // va did not change: its record stays; vb did: the saved one comes back as a copy.
    loadKernel(k, snap, false, { device: (i) => i === va.ifindex });
    expect(k.state).toEqual(before);
    expect(devGetByName(k, "va")).toBe(va);
    expect(devGetByName(k, "vb")).not.toBe(vb);
    expect(devGetByName(k, "vb")).not.toBe(snap.state.devices.get(vb.ifindex));
    expect(devGetByName(k, "vb")?.name).toBe("vb");
  });

  it("should hand the saved state itself over on the last load, and refuse another load", () => {
    const k = boot(E1);
    veth(k, "va", "vb");
    const snap = saveKernel(k);
    const before = structuredClone(k.state);
    devChangeName(k, devGetByName(k, "va") as NetDevice, "vc");
    loadKernel(k, snap);
    devChangeName(k, devGetByName(k, "va") as NetDevice, "vd");
    loadKernel(k, snap, true);

    expect(k.state).toEqual(before);
    expect(k.state.devices).toBe(snap.state.devices);
    expect(devGetByName(k, "va")).toBeDefined();
    expect(() => loadKernel(k, snap)).toThrow(TypeError);
    expect(() => loadKernel(k, snap, true)).toThrow(/loaded as the last time/);
  });

  it("should reset the derived name cache", () => {
    const k = boot(E1);
    veth(k, "veth%d", "peer%d");
    const snap = saveKernel(k);
    veth(k, "veth%d", "peer%d");
    expect(devGetByName(k, "veth1")).toBeDefined();

    loadKernel(k, snap);
    veth(k, "veth%d", "peer%d");

    expect(devGetByName(k, "veth1")).toBeDefined();
    expect(devGetByName(k, "veth2")).toBeUndefined();
  });

  it("should restore the code registry (a module loaded later is gone)", () => {
    const k = boot(E1);
    const snap = saveKernel(k);
    const drivers = [...k.registry.drivers.keys()];

    virtioNetInit(k);
    expect(k.registry.drivers.has("virtio_net")).toBe(true);
    loadKernel(k, snap);

    expect([...k.registry.drivers.keys()]).toEqual(drivers);
  });

  it("should throw RangeError for a snapshot of an abandoned branch", () => {
    const k = boot(E1);
    const root = saveKernel(k);
    klog(k, "info", "branch 1");
    const leaf = saveKernel(k);
    loadKernel(k, root);
    klog(k, "info", "branch 2");

    expect(() => loadKernel(k, leaf)).toThrow(RangeError);
    expect(k.trace.events.at(-1)).toMatchObject({ text: "branch 2" });
  });

  it("should share the base's copies of the parts `same` names, and copy them on a last load", () => {
    const { k, va, vb, s1 } = vethPairSaved();
    const s2 = saveKernel(k, { snap: s1, same: { device: (i) => i === va.ifindex } });
    const shared = s1.state.devices.get(va.ifindex);
    expect(s2.state.devices.get(va.ifindex)).toBe(shared);
    expect(s2.state.devices.get(vb.ifindex)).not.toBe(s1.state.devices.get(vb.ifindex));
    expect(s2.state.subsys).not.toBe(s1.state.subsys);

    // The last load of s1 hands its state over, but not the copy s2 holds too: renaming va
    // then leaves s2 as it was.
    devChangeName(k, vb, "vc");
    loadKernel(k, s1, true);
    expect(k.state.devices.get(va.ifindex)).not.toBe(shared);
    expect(k.state.devices.get(vb.ifindex)).toBe(s1.state.devices.get(vb.ifindex));
    devChangeName(k, devGetByName(k, "va") as NetDevice, "vd");
    expect(shared?.name).toBe("va");
    loadKernel(k, s2);
    expect(devGetByName(k, "va")).toBeDefined();
    expect(devGetByName(k, "vb")).toBeDefined();
    expect(devGetByName(k, "vd")).toBeUndefined();
  });

  it("should keep the kernel's own equal records on a last load instead of copying shared ones", () => {
    const { k, va, vb, s1 } = vethPairSaved();
    const s2 = saveKernel(k, {
      snap: s1,
      same: { device: () => true, subsys: () => true },
    });
    const sharedVa = s1.state.devices.get(va.ifindex);
    const sharedVb = s1.state.devices.get(vb.ifindex);
    expect(s2.state.devices.get(va.ifindex)).toBe(sharedVa);
    const own = k.state.devices.get(va.ifindex);
    const ownSubsys = k.state.subsys;
    devChangeName(k, vb, "vc");
    const before = structuredClone(s1.state);
    // va and the subsystems are the same as saved: the kernel keeps its records; vb changed
    // and is shared: a copy.
    loadKernel(k, s1, true, {
      device: (i) => i === va.ifindex,
      subsys: () => true,
    });
    expect(k.state.devices.get(va.ifindex)).toBe(own);
    expect(k.state.subsys).toBe(ownSubsys);
    expect(k.state.devices.get(vb.ifindex)).not.toBe(sharedVb);
    expect(k.state).toEqual(before);
    // Changing the kernel now leaves the copies s2 shares as they were.
    devChangeName(k, devGetByName(k, "vb") as NetDevice, "vd");
    devChangeName(k, devGetByName(k, "va") as NetDevice, "ve");
    expect(sharedVa?.name).toBe("va");
    expect(sharedVb?.name).toBe("vb");
    loadKernel(k, s2);
    expect(devGetByName(k, "va")).toBeDefined();
    expect(devGetByName(k, "vb")).toBeDefined();
  });

  it("should copy everything when the base was loaded with `last`", () => {
    const k = boot(E1);
    veth(k, "va", "vb");
    const s1 = saveKernel(k);
    loadKernel(k, s1, true);
    const s2 = saveKernel(k, { snap: s1, same: { device: () => true, subsys: () => true } });
    for (const [i, d] of s2.state.devices) expect(d).not.toBe(k.state.devices.get(i));
    expect(s2.state.subsys).not.toBe(k.state.subsys);
  });

  it("should keep the subsystems' states when `keep` names each of them, else copy them", () => {
    const k = boot(E1);
    veth(k, "va", "vb");
    const names = Object.keys(k.state.subsys);
    expect(names.length).toBeGreaterThan(0);
    const snap = saveKernel(k);
    const before = structuredClone(k.state);
    const cur = k.state.subsys;
    loadKernel(k, snap, false, { device: () => false, subsys: () => true });
    expect(k.state).toEqual(before);
    expect(k.state.subsys).toBe(cur);
    loadKernel(k, snap, false, { device: () => false, subsys: (n) => n !== names[0] });
    expect(k.state).toEqual(before);
    expect(k.state.subsys).not.toBe(cur);
    expect(k.state.subsys).not.toBe(snap.state.subsys);
  });

  it("should share the base's registry entries while they stay, and restore a later module's", () => {
    const k = boot(E1);
    const s1 = saveKernel(k);
    const same = { device: () => true };
    const s2 = saveKernel(k, { snap: s1, same });
    expect(s2.registry).toBe(s1.registry);
    virtioNetInit(k);
    const s3 = saveKernel(k, { snap: s2, same });
    expect(s3.registry).not.toBe(s2.registry);
    expect(s3.registry.drivers).not.toBe(s2.registry.drivers);
    loadKernel(k, s2);
    expect(k.registry.drivers.has("virtio_net")).toBe(false);
    loadKernel(k, s3);
    expect(k.registry.drivers.has("virtio_net")).toBe(true);
  });
});
