// The machine layer's public surface: machine specs, built-ins and the hypervisor controls.

export * from "./builtins.ts";
export * from "./machine.ts";
