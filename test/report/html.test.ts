// The HTML report generator: pure and deterministic (a golden page), escapes everything, and the
// link states it shows come from the model (the same record as runScenario, states that match
// the run's final links and a replay's end).

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { replay } from "../../src/explore/explore.ts";
import { pathLinkStates } from "../../src/explore/link-states.ts";
import {
  backendRunReport,
  conformReport,
  escapeHtml,
  exploreReport,
  renderHtml,
  replayReport,
  runReport,
  scriptJson,
} from "../../src/report/index.ts";
import { runScenarioWithStates } from "../../src/scenario/link-states.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { linkRecords, runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const scenario = (file: string): ScenarioDoc => {
  const p = parseScenario(readFileSync(file, "utf8"), file);
  if (!p.ok) throw new Error(`${file} does not parse`);
  return p.scenario;
};

/** The JSON block of a page, parsed back. */
function dataOf(html: string): unknown {
  const m = /<script type="application\/json" id="ifsim-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error("no data block");
  return JSON.parse(m[1] as string);
}

function golden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

describe("runScenarioWithStates", () => {
  it("should return the same record as runScenario for every example", () => {
    const dir = "examples/scenarios";
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".yaml"))) {
      const text = readFileSync(`${dir}/${f}`, "utf8");
      if (/^# ifsim run refuses:/m.test(text)) continue;
      const sc = scenario(`${dir}/${f}`);
      const a = runScenario(sc);
      const b = runScenarioWithStates(sc);
      expect(JSON.stringify(b.record), f).toBe(JSON.stringify(a));
      expect(b.states.atTimeline.length, f).toBe(a.timeline.length);
      expect(b.states.atStep.length, f).toBe(a.steps.length);
      // The last line's state is the final links (nothing runs after the last line or later).
      const last = b.states.atTimeline[b.states.atTimeline.length - 1] as number;
      expect(b.states.states[last], f).toEqual(a.links);
    }
  });

  it("should show the VF renamed only on the kernel that allows it (01-seed-race)", () => {
    const sc = scenario("examples/scenarios/01-seed-race.yaml");
    for (const [kernel, name] of [
      ["5.0", "eth2"],
      ["6.1", "enp1s0"],
    ] as const) {
      const r = runScenarioWithStates(sc, { kernel });
      const i = r.record.timeline.findIndex((e) => e.what.includes("name enp1s0"));
      const before = r.states.states[r.states.atTimeline[i - 1] as number] ?? [];
      const after = r.states.states[r.states.atTimeline[i] as number] ?? [];
      expect(before.some((l) => l.ifname === "eth2")).toBe(true);
      expect(after.some((l) => l.ifname === name && l.master === "eth0")).toBe(true);
    }
  });
});

describe("pathLinkStates", () => {
  it("should end in the state the replay ended in, one state per step", () => {
    const sc = scenario("examples/explore/seed-race.yaml");
    const config = { kernel: "5.0" };
    const rep = replay(sc, config, [], undefined, { states: true });
    const s = pathLinkStates(rep);
    expect(s.after.length).toBe(rep.steps.length);
    expect(s.states[s.after[s.after.length - 1] as number]).toEqual(linkRecords(rep.system.kernel));
  });

  it("should store equal states once and give each step its own", () => {
    const sc = scenario("examples/explore/seed-race.yaml");
    const rep = replay(sc, { kernel: "5.0" }, [], undefined, { states: true });
    const s = pathLinkStates(rep);
    const keys = s.states.map((st) => JSON.stringify(st));
    expect(new Set(keys).size).toBe(keys.length);
    rep.steps.forEach((step, i) => {
      expect(s.states[s.after[i] as number]).toEqual(step.links);
    });
    expect(s.states[s.initial]).toEqual(rep.initial?.links);
  });

  it("should refuse a replay made without states", () => {
    const sc = scenario("examples/explore/seed-race.yaml");
    expect(() => pathLinkStates(replay(sc, { kernel: "5.0" }, []))).toThrow(/recorded no states/);
  });
});

describe("renderHtml", () => {
  it("should render the 01-seed-race report on 5.0 and 6.1 as pinned (golden)", () => {
    const sc = scenario("examples/scenarios/01-seed-race.yaml");
    const runs = ["5.0", "6.1"].map((kernel) => runScenarioWithStates(sc, { kernel }));
    const html = renderHtml(runReport(runs, { file: "examples/scenarios/01-seed-race.yaml" }));
    golden("test/golden/report/01-seed-race.html", html);
  });

  it("should give the same bytes for the same input", () => {
    const sc = scenario("examples/explore/seed-race.yaml");
    const make = (): string => {
      const rep = replay(sc, { kernel: "5.0" }, [], undefined, { states: true });
      return renderHtml(
        replayReport({
          scenario: sc.name,
          file: "seed-race.yaml",
          kernel: "5.0",
          udev: "v253",
          lines: [],
          trace: {
            steps: rep.steps.map((s) => ({ ...s, shown: [] })),
            states: pathLinkStates(rep),
            violation: rep.violation,
          },
        }),
      );
    };
    expect(make()).toBe(make());
  });

  it("should load nothing from the network", () => {
    const sc = scenario("examples/scenarios/01-seed-race.yaml");
    const html = renderHtml(runReport([runScenarioWithStates(sc)], { file: "x.yaml" }));
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/\b(?:src|href)=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("should keep hostile text inside the JSON block", () => {
    const evil = `</script><script>alert(1)</script><!-- & \u2028 "x' <img src=x onerror=alert(2)>`;
    const doc = exploreReport({
      scenario: evil,
      file: evil,
      lines: [evil],
      cells: [{ kernel: evil, udev: null, verdict: "verified", verdictText: evil, facts: [] }],
    });
    const html = renderHtml(doc);
    // The only script elements are the page's two; the title is escaped.
    expect(html.match(/<script/g)?.length).toBe(2);
    expect(html.match(/<\/script>/g)?.length).toBe(2);
    expect(html).not.toContain("<img");
    expect(html).toContain(`<title>${escapeHtml(evil)} — ifsim explore</title>`);
    expect(dataOf(html)).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe("scriptJson", () => {
  it("should escape <, >, &, U+2028 and U+2029 and parse back to the same value", () => {
    const v = { a: "</script>&\u2028\u2029", b: [1, null, "\u0000\ud800"] };
    const s = scriptJson(v);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });
});

describe("backendRunReport", () => {
  it("should show a real kernel's steps, skipped expectations and final links", () => {
    const sc = scenario("examples/scenarios/01-seed-race.yaml");
    const m = runScenario(sc, { kernel: "5.0" });
    const doc = backendRunReport(
      {
        scenario: m.scenario,
        backend: "qemu",
        kernel: "6.1.0-28-amd64",
        steps: m.steps.map(({ t: _t, tEnd: _e, cause: _c, ...s }) => s),
        links: m.links,
      },
      {
        file: "x.yaml",
        expectations: [
          { expect: "step 4 → EBUSY", ok: true, checked: true, detail: "got EBUSY" },
          { expect: "log /x/", ok: true, checked: false, detail: "not observable" },
        ],
      },
    );
    const p = doc.groups[0]?.panels[0];
    expect(p?.rows.map((r) => r.t)).toEqual([null, null, null, null]);
    expect(p?.rows[3]?.result).toBe("EBUSY (RTNETLINK answers: Device or resource busy)");
    expect(p?.expectations.map((e) => e.ok)).toEqual([true, null]);
    expect(p?.finalLinks).toEqual(m.links);
    expect(doc.verdicts[0]?.text).toBe("PASS: 1 checked expectations hold");
  });
});

describe("conformReport", () => {
  it("should put the model and the kernel side by side with the differences", () => {
    const sc = scenario("examples/scenarios/01-seed-race.yaml");
    const model = runScenarioWithStates(sc, { kernel: "5.0" });
    const doc = conformReport({
      backend: "netns",
      results: [
        {
          file: "a.yaml",
          scenario: sc.name,
          verdict: "DIFFER",
          differences: [{ where: "step 4", field: "errno", model: "EBUSY", kernel: "null" }],
          model,
          kernel: {
            scenario: sc.name,
            backend: "netns",
            kernel: "6.18.0",
            steps: model.record.steps.map(({ t: _t, tEnd: _e, cause: _c, ...s }) => s),
            links: model.record.links,
          },
        },
        { file: "b.yaml", scenario: null, verdict: "REFUSED", reason: "no", differences: [] },
      ],
    });
    const [g, refused] = doc.groups;
    expect(g?.panels.map((p) => p.title)).toEqual(["model: Linux 5.0", "netns: Linux 6.18.0"]);
    expect(g?.panels[1]?.states).toEqual([]);
    expect(g?.differences).toHaveLength(1);
    expect(refused?.verdict?.status).toBe("warn");
    expect(refused?.panels).toEqual([]);
  });
});

describe("--html on the command line", () => {
  it("should refuse, before any work, an output over the input or in a missing directory", async () => {
    const { main } = await import("../../src/cli/main.ts");
    const f = "examples/scenarios/01-seed-race.yaml";
    const clash = main(["run", f, "--html", f]);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/--html: will not write to .* it is the input/);
    const nodir = main(["run", f, "--html", "/nonexistent-dir/r.html"]);
    expect(nodir.status).toBe(2);
    expect(nodir.stderr).toContain("--html: cannot write");
    expect(main(["run", f, "--html"]).stderr).toContain("--html needs an output file");
    const backend = await main(["run", f, "--backend", "netns", "--html", f]);
    expect(backend.status).toBe(2);
    expect(backend.stderr).toContain("--html: will not write");
    const ex = await main(["explore", f, "--html", f]);
    expect(ex.status).toBe(2);
    expect(ex.stderr).toContain("--html: will not write");
    const rp = await main(["replay", "x", "--html", "/nonexistent-dir/r.html"]);
    expect(rp.status).toBe(2);
    expect(rp.stderr).toContain("--html: cannot write");
    const cf = await main(["conform", f, "--html", f]);
    expect(cf.status).toBe(2);
    expect(cf.stderr).toContain("--html: will not write");
  });

  it("should say --html in every command's help", async () => {
    const { main } = await import("../../src/cli/main.ts");
    for (const cmd of ["run", "explore", "replay", "conform"]) {
      const r = await main([cmd, "--help"]);
      expect(r.stdout, cmd).toContain("--html");
    }
  });
});
