// The top-level help text and the package version: what `ifsim --help` and `ifsim --version`
// print without loading any command.

import { readFileSync } from "node:fs";

/** `ifsim --help`. */
export const HELP = `ifsim — an executable, kernel-faithful model of Linux network device naming,
renaming and failover.

Usage:
  ifsim ip [--kernel V] [--machine M] [--seed N] [--monitor OUT] [--dmesg OUT]
           [-force] [-j] [-d] [-br] [-o] [-s] -batch FILE
  ifsim ip [--kernel V] [--machine M] [...] [-j] [-d] [-br] [-o] [-s] link ...
  ifsim exec [--kernel V] [--machine M | FILE.yaml] [--udev GEN] [--json] [--monitor]
             [--backend netns|qemu] -- COMMAND [ARG...]
                                run an unmodified script whose 'ip' (and 'ifsim-hv' for hot-plug
                                and virtual time) talk to one booted model; print the final links
  ifsim serve --state DIR [--kernel V] [--machine M | FILE.yaml] [--udev GEN] [--backend qemu]
                                a persistent model session (survives restarts and kill -9), or
                                with --backend qemu a booted QEMU guest's
  ifsim ip --state DIR [ip options] link ...
                                one ip call on the session ifsim serve --state DIR serves
  ifsim kernels [--json]        list the kernel version profiles
  ifsim machines [--json]       list the built-in machines (for --machine)
  ifsim run FILE.yaml [--kernel V]... [--seed N] [--json] [--monitor] [--html OUT]
            [--link-dir DIR] [--rules-dir DIR] [--netplan FILE]
                                run a scenario: timeline, step results, final links
  ifsim run FILE.yaml --backend netns|qemu [--kernel V] [--json]
                                run it on a real kernel (host namespace or Linux guest;
                                qemu --kernel 5.10|6.1|6.12: Debian's kernel and udev)
  ifsim conform FILE.yaml... [--backend netns|qemu] [--kernel V] [--json] [--html OUT]
                                run each on a real kernel and on the model, show differences
  ifsim explore FILE.yaml [--kernel LIST] [--udev LIST] [--invariants LIST] [--json]
                [--export OUT] [--html OUT] [--jobs N] [--max-states N] [--time-limit DUR] [...]
                                search every interleaving of the scenario's actors for a broken
                                invariant (a kernel × udev matrix with lists); exit 0 verified,
                                1 violated, 3 bounded (ifsim explore --help lists every option)
  ifsim replay TOKEN|TRACE-FILE [--cell K/U] [--json] [--itf OUT] [--export OUT] [--html OUT]
                                replay a counterexample ifsim explore wrote (its token, or the
                                NAME.cex.txt file it wrote the tokens to)
  ifsim udevadm FILE.yaml info DEV | test-builtin net_id DEV
                                what the model's udev decided, as udevadm prints it
  ifsim schema                  the scenario file's JSON Schema (for editors)
  ifsim --help | --version
  --html OUT on run, explore, replay and conform writes a self-contained HTML report (swim
  lanes per actor on the virtual clock, the ip link state after any line; docs/html-report.md)

ifsim ip runs iproute2 'ip link' commands on a fresh simulated kernel and prints exactly
what iproute2 6.1 prints on that kernel. Without --machine the namespace has only 'lo'.
  --kernel V     kernel version profile (default 6.18), e.g. 4.19, 5.0, 5.1, 6.1, 6.2
  --machine M    boot a machine first, e.g. failover-vm (net_failover with virtio + e1000e)
  --dmesg OUT    write the kernel log, boot included, to OUT ('-' = stderr)
  (ifsim ip --help lists every option and the #ifsim: batch directives for hot-plug)
  --seed N       seed of the model's RNG (random veth/ifb MACs), default 1
  --monitor OUT  write the 'ip monitor link' records the run produced to OUT ('-' = stderr)
Exit status: as ip (0 ok, 1 failed command, 2 kernel error, 255 usage), 2 for ifsim usage errors.
Every command: 70 internal error (a bug in ifsim: please report it), 74 output not written (disk full).`;

/** The package's version, from its package.json (src/cli/ and dist/cli/ both sit two levels below it). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
