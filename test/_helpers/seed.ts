// The seed for seeded tests. Vitest loads this file as a setup file, so a CI run without
// IFSIM_SEED fails before any test runs (as fast-check's vitest.setup.mjs does with DEFAULT_SEED).
import fc from "fast-check";

/** The seed used when IFSIM_SEED is unset outside CI. */
export const DEFAULT_TEST_SEED = 20261124;

/**
 * Returns the seed for this test run: IFSIM_SEED if set, else {@link DEFAULT_TEST_SEED} locally.
 *
 * @returns An integer in [0, 2^32 − 1] (fast-check seeds are 32-bit).
 * @throws Error if CI is set and IFSIM_SEED is not: CI must pin its seed so a failure can be replayed.
 * @throws RangeError if IFSIM_SEED is not such an integer.
 */
export function testSeed(): number {
  const raw = process.env.IFSIM_SEED;
  if (raw === undefined || raw === "") {
    if (process.env.CI !== undefined && process.env.CI !== "") {
      throw new Error("Cannot pick a test seed: CI must set IFSIM_SEED");
    }
    return DEFAULT_TEST_SEED;
  }
  const seed = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(seed) || seed > 0xffff_ffff) {
    throw new RangeError(
      `Cannot use IFSIM_SEED "${raw}": it must be an integer from 0 to 4294967295`,
    );
  }
  return seed;
}

// Property tests (fast-check and @fast-check/vitest) draw from the same seed.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: testSeed() });
