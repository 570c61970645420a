// Writes docs/ifsim.1, the man page, from the same text as `ifsim --help` and each
// `ifsim COMMAND --help` (run: npm run man; test/tools/man.test.ts checks it is up to date).

import { writeFileSync } from "node:fs";
import { main, packageVersion } from "../../src/cli/main.ts";

/** The subcommands, in the order the page shows them. */
export const COMMANDS = [
  "run",
  "explore",
  "replay",
  "conform",
  "ip",
  "exec",
  "serve",
  "kernels",
  "machines",
  "udevadm",
  "schema",
] as const;

/** Text as roff: backslashes escaped, lines starting with . or ' protected, hyphens as \-. */
function roff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join("\n");
}

async function help(argv: readonly string[]): Promise<string> {
  const r = await main(argv);
  if (r.status !== 0) throw new Error(`ifsim ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trimEnd();
}

/** The man page's text. */
export async function manPage(): Promise<string> {
  const top = await help(["--help"]);
  const [title = "", ...rest] = top.split("\n");
  const name = title.replace(/^ifsim — /, "").trim();
  const more = rest.join(" ").replace(/\s+/g, " ").split("Usage:")[0]?.trim() ?? "";
  let s = `.TH IFSIM 1 "" "ifsim ${packageVersion()}" "User Commands"\n`;
  s += `.SH NAME\nifsim \\- ${roff(`${name} ${more}`.trim())}\n`;
  s += `.SH SYNOPSIS\n.nf\n${roff(top.slice(top.indexOf("Usage:")))}\n.fi\n`;
  s += ".SH COMMANDS\n";
  for (const c of COMMANDS) s += `.SS ifsim ${c}\n.nf\n${roff(await help([c, "--help"]))}\n.fi\n`;
  s += `.SH FILES\nScenario files are YAML; \\fBifsim schema\\fR prints their JSON Schema and docs/scenario\\-format.md in the source describes every key.\n`;
  s += `.SH EXIT STATUS\n0 success (every expectation holds, verified, all agree), 1 a failed expectation, a violation or a difference, 2 bad input or usage, 3 a bounded search (explore).\n`;
  s += `.SH SEE ALSO\n\\fBip\\fR(8), \\fBip\\-link\\fR(8), \\fBudevadm\\fR(8), \\fBsystemd.link\\fR(5)\n`;
  return s;
}

if (process.argv[1]?.endsWith("gen-man.ts")) {
  writeFileSync("docs/ifsim.1", await manPage());
  process.stdout.write("wrote docs/ifsim.1\n");
}
