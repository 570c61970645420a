// docs/ifsim.1 is generated from the --help texts (tools/man/gen-man.ts): it must be up to date.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS, manPage } from "../../tools/man/gen-man.ts";

describe("manPage", () => {
  it("should equal docs/ifsim.1 (npm run man regenerates it)", async () => {
    expect(readFileSync("docs/ifsim.1", "utf8")).toBe(await manPage());
  });

  it("should have a section for every subcommand, from its --help", async () => {
    const page = await manPage();
    for (const c of COMMANDS) expect(page).toContain(`.SS ifsim ${c}\n.nf\nUsage: ifsim ${c}`);
  });
});
