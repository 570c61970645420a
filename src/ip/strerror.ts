// glibc's strerror() texts for the errnos the kernel model can return (string/_strerror.c,
// sysdeps/gnu/errlist.h); `ip` prints them after "RTNETLINK answers: ".

import { type ErrnoName, errnoName } from "../kernel/index.ts";

/** glibc's message for every errno in kernel/errno.ts. */
export const STRERROR: Readonly<Record<ErrnoName, string>> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  EIO: "Input/output error",
  ENOMEM: "Cannot allocate memory",
  EBUSY: "Device or resource busy",
  EEXIST: "File exists",
  ENODEV: "No such device",
  EINVAL: "Invalid argument",
  ENFILE: "Too many open files in system",
  ENOSPC: "No space left on device",
  EMLINK: "Too many links",
  ERANGE: "Numerical result out of range",
  EOPNOTSUPP: "Operation not supported",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENOTCONN: "Transport endpoint is not connected",
};

/**
 * strerror(3) for a (negative or positive) errno value.
 * @returns the glibc text, or glibc's "Unknown error N" for numbers the model does not know
 */
export function strerror(errno: number): string {
  const name = errnoName(errno);
  return name ? STRERROR[name] : `Unknown error ${Math.abs(errno)}`;
}
