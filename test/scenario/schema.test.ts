// The scenario JSON Schema (`ifsim schema`): what editors show.

import { describe, expect, it } from "vitest";
import { scenarioJsonSchema } from "../../src/scenario/schema.ts";

/** Every property of every object schema in `node`, with its path. */
function properties(
  node: unknown,
  path = "#",
): { path: string; schema: Record<string, unknown> }[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => properties(n, `${path}[${i}]`));
  if (node === null || typeof node !== "object") return [];
  const o = node as Record<string, unknown>;
  const own =
    o.properties && typeof o.properties === "object"
      ? Object.entries(o.properties as Record<string, Record<string, unknown>>).map(
          ([k, schema]) => ({ path: `${path}.${k}`, schema }),
        )
      : [];
  return [...own, ...Object.entries(o).flatMap(([k, v]) => properties(v, `${path}/${k}`))];
}

describe("scenarioJsonSchema", () => {
  it("should describe every property of every object", () => {
    const props = properties(scenarioJsonSchema());
    expect(props.length).toBeGreaterThan(60);
    const bare = props.filter((p) => typeof p.schema.description !== "string").map((p) => p.path);
    expect(bare).toEqual([]);
  });

  it("should list the Linux errno names a step expectation may give", () => {
    const text = JSON.stringify(scenarioJsonSchema());
    expect(text).toContain('"EBUSY"');
    expect(text).not.toContain('"EBUSSY"');
  });
});
