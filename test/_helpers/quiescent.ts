// Where a system's quiescent invariants are checked: runs `f` with `ScenarioSystem.check`
// wrapped so that each call with `quiescent` records the pair's projection (pair `mac`).

import { projection } from "../../src/explore/pair.ts";
import { ScenarioSystem } from "../../src/explore/scenario-system.ts";

export function quiescentProjections<T>(mac: string, f: () => T): { result: T; at: Set<string> } {
  const proto = ScenarioSystem.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, "check");
  const check = own?.value as ScenarioSystem["check"];
  const at = new Set<string>();
  Object.defineProperty(proto, "check", {
    configurable: true,
    value(this: ScenarioSystem, quiescent: boolean) {
      if (quiescent) at.add(projection(this, mac));
      return check.call(this, quiescent);
    },
  });
  try {
    return { result: f(), at };
  } finally {
    if (own) Object.defineProperty(proto, "check", own);
  }
}
