// From what iproute2 prints for a failed request back to the kernel's errno name: glibc's
// strerror() texts ("RTNETLINK answers: <strerror>"), the kernel-internal errnos glibc does not
// name ("Unknown error 524"), and the extended-ack messages ("Error: <msg>.") whose errno the
// kernel source fixes (iproute2 prints an extack message *instead of* strerror, so the errno is
// otherwise lost).

/** glibc 2.36 strerror() for every Linux errno (x86-64 numbering), by the kernel's name. */
const STRERROR: Readonly<Record<string, string>> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINTR: "Interrupted system call",
  EIO: "Input/output error",
  ENXIO: "No such device or address",
  E2BIG: "Argument list too long",
  ENOEXEC: "Exec format error",
  EBADF: "Bad file descriptor",
  ECHILD: "No child processes",
  EAGAIN: "Resource temporarily unavailable",
  ENOMEM: "Cannot allocate memory",
  EACCES: "Permission denied",
  EFAULT: "Bad address",
  ENOTBLK: "Block device required",
  EBUSY: "Device or resource busy",
  EEXIST: "File exists",
  EXDEV: "Invalid cross-device link",
  ENODEV: "No such device",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EINVAL: "Invalid argument",
  ENFILE: "Too many open files in system",
  EMFILE: "Too many open files",
  ENOTTY: "Inappropriate ioctl for device",
  ETXTBSY: "Text file busy",
  EFBIG: "File too large",
  ENOSPC: "No space left on device",
  ESPIPE: "Illegal seek",
  EROFS: "Read-only file system",
  EMLINK: "Too many links",
  EPIPE: "Broken pipe",
  EDOM: "Numerical argument out of domain",
  ERANGE: "Numerical result out of range",
  EDEADLK: "Resource deadlock avoided",
  ENAMETOOLONG: "File name too long",
  ENOLCK: "No locks available",
  ENOSYS: "Function not implemented",
  ENOTEMPTY: "Directory not empty",
  ELOOP: "Too many levels of symbolic links",
  ENOMSG: "No message of desired type",
  EIDRM: "Identifier removed",
  ECHRNG: "Channel number out of range",
  EL2NSYNC: "Level 2 not synchronized",
  EL3HLT: "Level 3 halted",
  EL3RST: "Level 3 reset",
  ELNRNG: "Link number out of range",
  EUNATCH: "Protocol driver not attached",
  ENOCSI: "No CSI structure available",
  EL2HLT: "Level 2 halted",
  EBADE: "Invalid exchange",
  EBADR: "Invalid request descriptor",
  EXFULL: "Exchange full",
  ENOANO: "No anode",
  EBADRQC: "Invalid request code",
  EBADSLT: "Invalid slot",
  EBFONT: "Bad font file format",
  ENOSTR: "Device not a stream",
  ENODATA: "No data available",
  ETIME: "Timer expired",
  ENOSR: "Out of streams resources",
  ENONET: "Machine is not on the network",
  ENOPKG: "Package not installed",
  EREMOTE: "Object is remote",
  ENOLINK: "Link has been severed",
  EADV: "Advertise error",
  ESRMNT: "Srmount error",
  ECOMM: "Communication error on send",
  EPROTO: "Protocol error",
  EMULTIHOP: "Multihop attempted",
  EDOTDOT: "RFS specific error",
  EBADMSG: "Bad message",
  EOVERFLOW: "Value too large for defined data type",
  ENOTUNIQ: "Name not unique on network",
  EBADFD: "File descriptor in bad state",
  EREMCHG: "Remote address changed",
  ELIBACC: "Can not access a needed shared library",
  ELIBBAD: "Accessing a corrupted shared library",
  ELIBSCN: ".lib section in a.out corrupted",
  ELIBMAX: "Attempting to link in too many shared libraries",
  ELIBEXEC: "Cannot exec a shared library directly",
  EILSEQ: "Invalid or incomplete multibyte or wide character",
  ERESTART: "Interrupted system call should be restarted",
  ESTRPIPE: "Streams pipe error",
  EUSERS: "Too many users",
  ENOTSOCK: "Socket operation on non-socket",
  EDESTADDRREQ: "Destination address required",
  EMSGSIZE: "Message too long",
  EPROTOTYPE: "Protocol wrong type for socket",
  ENOPROTOOPT: "Protocol not available",
  EPROTONOSUPPORT: "Protocol not supported",
  ESOCKTNOSUPPORT: "Socket type not supported",
  EOPNOTSUPP: "Operation not supported",
  EPFNOSUPPORT: "Protocol family not supported",
  EAFNOSUPPORT: "Address family not supported by protocol",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENETDOWN: "Network is down",
  ENETUNREACH: "Network is unreachable",
  ENETRESET: "Network dropped connection on reset",
  ECONNABORTED: "Software caused connection abort",
  ECONNRESET: "Connection reset by peer",
  ENOBUFS: "No buffer space available",
  EISCONN: "Transport endpoint is already connected",
  ENOTCONN: "Transport endpoint is not connected",
  ESHUTDOWN: "Cannot send after transport endpoint shutdown",
  ETOOMANYREFS: "Too many references: cannot splice",
  ETIMEDOUT: "Connection timed out",
  ECONNREFUSED: "Connection refused",
  EHOSTDOWN: "Host is down",
  EHOSTUNREACH: "No route to host",
  EALREADY: "Operation already in progress",
  EINPROGRESS: "Operation now in progress",
  ESTALE: "Stale file handle",
  EUCLEAN: "Structure needs cleaning",
  ENOTNAM: "Not a XENIX named type file",
  ENAVAIL: "No XENIX semaphores available",
  EISNAM: "Is a named type file",
  EREMOTEIO: "Remote I/O error",
  EDQUOT: "Disk quota exceeded",
  ENOMEDIUM: "No medium found",
  EMEDIUMTYPE: "Wrong medium type",
  ECANCELED: "Operation canceled",
  ENOKEY: "Required key not available",
  EKEYEXPIRED: "Key has expired",
  EKEYREVOKED: "Key has been revoked",
  EKEYREJECTED: "Key was rejected by service",
  EOWNERDEAD: "Owner died",
  ENOTRECOVERABLE: "State not recoverable",
  ERFKILL: "Operation not possible due to RF-kill",
};

/** include/linux/errno.h: errnos that never reach userspace by name; glibc prints "Unknown error N". */
const KERNEL_INTERNAL: Readonly<Record<number, string>> = {
  512: "ERESTARTSYS",
  513: "ERESTARTNOINTR",
  514: "ERESTARTNOHAND",
  515: "ENOIOCTLCMD",
  516: "ERESTART_RESTARTBLOCK",
  517: "EPROBE_DEFER",
  518: "EOPENSTALE",
  519: "ENOPARAM",
  521: "EBADHANDLE",
  522: "ENOTSYNC",
  523: "EBADCOOKIE",
  524: "ENOTSUPP",
  525: "ETOOSMALL",
  526: "ESERVERFAULT",
  527: "EBADTYPE",
  528: "EJUKEBOX",
  529: "EIOCBQUEUED",
  530: "ERECALLCONFLICT",
  531: "ENOGRACE",
};

/**
 * Extended-ack messages `ip link` can meet, and the errno the kernel returns with
 * each (read off the kernel source; the location is the function that sets the message).
 */
export const EXTACK_ERRNO: Readonly<Record<string, string>> = {
  // lib/nlattr.c validate_nla(): err starts as -ERANGE (an IFLA_IFNAME longer than 15 bytes).
  "Attribute failed policy validation": "ERANGE",
  // lib/nlattr.c __nla_validate_parse() / validate_nla()
  "Unknown attribute type": "EINVAL",
  "Unsupported attribute": "EINVAL",
  // net/core/dev.c dev_validate_mtu()
  "mtu less than device minimum": "EINVAL",
  "mtu greater than device maximum": "EINVAL",
  // net/core/rtnetlink.c rtnl_newlink() / rtnl_create_link()
  "Unknown device type": "EOPNOTSUPP",
  "Invalid number of transmit queues": "EINVAL",
  "Invalid number of receive queues": "EINVAL",
  // drivers/net/vxlan/vxlan_core.c vxlan_validate(), drivers/net/geneve.c geneve_validate()
  // (veth_validate() sets no message)
  "Provided link layer address is not Ethernet": "EINVAL",
  "Provided Ethernet address is not unicast": "EADDRNOTAVAIL",
  "MTU must be between 68 and 65535": "EINVAL",
};

const BY_TEXT = new Map<string, string>(Object.entries(STRERROR).map(([n, t]) => [t, n]));

/**
 * The errno name behind the first line iproute2 printed for a failed command, or null when the
 * line does not carry one (iproute2's own errors: `Cannot find device "x"`, `Error: argument …
 * is wrong`, usage; or an extack message this table does not know).
 * @example errnoFromIpError("RTNETLINK answers: Device or resource busy") // "EBUSY"
 * @example errnoFromIpError("Error: mtu less than device minimum.") // "EINVAL"
 */
export function errnoFromIpError(line: string): string | null {
  const rt = /^RTNETLINK answers: (.*)$/.exec(line);
  if (rt) {
    const text = rt[1] as string;
    const unknown = /^Unknown error (\d+)$/.exec(text);
    if (unknown) return KERNEL_INTERNAL[Number(unknown[1])] ?? null;
    return BY_TEXT.get(text) ?? null;
  }
  const ext = /^Error: (.*?)\.?$/.exec(line);
  if (ext) return EXTACK_ERRNO[ext[1] as string] ?? null;
  return null;
}

/** glibc's strerror() text of an errno name (for messages and tests), or null. */
export function strerrorText(name: string): string | null {
  return STRERROR[name] ?? null;
}
