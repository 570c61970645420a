// Values of the options several subcommands share (`--seed N`, `--kernel V`): one parser and one
// error text each, so that every subcommand says the same thing about the same mistake.

/** A `--seed` value: an integer from 0 to 2^53 - 1, or the error to print. */
export function seedValue(v: string | null | undefined): number | { error: string } {
  if (v === null || v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    return { error: `--seed needs an integer from 0 to 2^53 - 1, got "${v ?? ""}"` };
  return Number(v);
}

/** A `--kernel` value (checked against the profiles later, where the kernel is built). */
export function kernelValue(v: string | null | undefined): string | { error: string } {
  if (v === null || v === undefined)
    return { error: "--kernel needs a version, e.g. --kernel 6.1" };
  return v;
}
