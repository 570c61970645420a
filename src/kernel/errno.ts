// include/uapi/asm-generic/errno-base.h, include/uapi/asm-generic/errno.h (x86-64 values)

/** Kernel errno numbers the model can return (positive values, as in the uapi headers). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENOMEM: 12,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  ENOSPC: 28,
  EMLINK: 31,
  ERANGE: 34,
  EOPNOTSUPP: 95,
  EADDRNOTAVAIL: 99,
  ENOTCONN: 107,
} as const;

/** Name of a modelled errno, e.g. `"EBUSY"`. */
export type ErrnoName = keyof typeof Errno;
type Negate<N extends number> = `-${N}` extends `${infer M extends number}` ? M : never;
/** A negative errno value, as an `int`-returning kernel function returns it (`-EBUSY` = -16). */
export type NegErrno = { [K in ErrnoName]: Negate<(typeof Errno)[K]> }[ErrnoName];
/** What an int-returning kernel function returns: 0 or a negative errno. */
export type KRet = 0 | NegErrno;

/**
 * C's `-ENAME`.
 * @example err("EBUSY") // -16
 */
export function err(name: ErrnoName): NegErrno {
  return -Errno[name] as NegErrno;
}

const byNumber = new Map<number, ErrnoName>(
  (Object.keys(Errno) as ErrnoName[]).map((n) => [Errno[n], n]),
);

/** Name of a negative (or positive) errno value, or undefined when the model does not know it. */
export function errnoName(value: number): ErrnoName | undefined {
  return byNumber.get(Math.abs(value));
}

/** True when `value` is a negative errno the model knows. */
export function isNegErrno(value: number): value is NegErrno {
  return value < 0 && byNumber.has(-value);
}
