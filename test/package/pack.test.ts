// The package as a user gets it: built, packed with npm pack, installed from the tarball into a
// scratch project (offline: yaml and zod come packed from this checkout's node_modules), then
// `import … from "ifsim"` at run time, its types with tsc, the `ifsim` command, and the worked
// example examples/library/failover.test.ts run with vitest against the installed package.

import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(".");
const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name);
const work = mkdtempSync(join(tmpdir(), "ifsim-pack-"));
const stage = join(work, "stage");
const project = join(work, "project");

function sh(cmd: string, args: readonly string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
}

beforeAll(() => {
  // Build into a staging copy (package.json, README, dist) so that the checkout is untouched.
  mkdirSync(stage);
  cpSync("package.json", join(stage, "package.json"));
  cpSync("README.md", join(stage, "README.md"));
  sh(bin("tsc"), ["-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(stage, "dist")], ROOT);
  // npm run build's second step: the bundled `ifsim` binary (package.json "bin").
  sh(bin("tsx"), ["tools/build/bundle.ts", join(stage, "dist", "bin")], ROOT);
  const packs = join(work, "packs");
  mkdirSync(packs);
  sh("npm", ["pack", "--silent", "--pack-destination", packs], stage);
  for (const dep of ["yaml", "zod"])
    sh(
      "npm",
      ["pack", "--silent", "--pack-destination", packs, join(ROOT, "node_modules", dep)],
      ROOT,
    );
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    '{ "name": "scratch", "version": "1.0.0", "private": true, "type": "module" }\n',
  );
  sh("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", ...tarballs], project);
}, 240_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("should install offline with the package's own files and dependencies", () => {
    expect(readdirSync(join(project, "node_modules")).sort()).toEqual(
      expect.arrayContaining(["ifsim", "yaml", "zod"]),
    );
    expect(readdirSync(join(project, "node_modules", "ifsim", "dist"))).toContain("index.d.ts");
  });

  it('should be importable as "ifsim" and run a scenario', () => {
    writeFileSync(
      join(project, "use.mjs"),
      `import { run, loadScenario, IpModel } from "ifsim";
const sc = loadScenario('ifsim: 1\\nname: x\\nkernel: "6.1"\\ndevices:\\n  - {id: a, type: veth, name: v0, peer: v1}\\nsteps:\\n  - ip: link set dev v0 name v1\\n');
const m = new IpModel();
console.log(JSON.stringify({ errno: run(sc).steps[0].errno, lo: m.ip("-br link show").stdout }));
`,
    );
    expect(JSON.parse(sh("node", ["use.mjs"], project))).toEqual({
      errno: "EEXIST",
      lo: "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n",
    });
  });

  it("should carry types that catch a misuse", () => {
    writeFileSync(
      join(project, "typed.mts"),
      `import { run, type RunRecord } from "ifsim";
const rec: RunRecord = run("ifsim: 1\\nname: x\\nkernel: '6.1'\\nsteps: []\\n");
const wrong: string = rec.steps.length;
export { wrong };
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["typed.mts"],
      }),
    );
    let out = "";
    try {
      sh(bin("tsc"), ["-p", "."], project);
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    // Exactly the planted error: everything else type-checks against the installed .d.ts.
    expect(out.trim()).toBe(
      "typed.mts(3,7): error TS2322: Type 'number' is not assignable to type 'string'.",
    );
  });

  it("should install the ifsim command, whose --version is the package's", () => {
    expect(sh(join(project, "node_modules", ".bin", "ifsim"), ["--version"], project)).toBe(
      "ifsim 0.1.0\n",
    );
  });

  it("should run ip and a scenario with the installed ifsim command", () => {
    const ifsim = join(project, "node_modules", ".bin", "ifsim");
    expect(sh(ifsim, ["ip", "-br", "link", "show"], project)).toBe(
      "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n",
    );
    writeFileSync(
      join(project, "s.yaml"),
      'ifsim: 1\nname: x\nkernel: "6.1"\ndevices:\n  - {id: a, type: veth, name: v0, peer: v1}\nsteps:\n  - ip: link set dev v0 name v1\n',
    );
    expect(JSON.parse(sh(ifsim, ["run", "s.yaml", "--json"], project)).steps[0].errno).toBe(
      "EEXIST",
    );
  });

  it("should pass the worked example examples/library/failover.test.ts against the installed package", () => {
    cpSync("examples/library/failover.test.ts", join(project, "failover.test.ts"));
    // vitest from this checkout, resolvable from the scratch project.
    symlinkSync(join(ROOT, "node_modules", "vitest"), join(project, "node_modules", "vitest"));
    const out = sh(
      "node",
      [join(dirname(join(ROOT, "node_modules", "vitest", "package.json")), "vitest.mjs"), "run"],
      project,
    );
    expect(out).toMatch(/Tests\s+\S*\s*7 passed/);
  }, 180_000);
});
