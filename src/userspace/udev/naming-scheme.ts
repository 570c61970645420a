// systemd's naming schemes (src/shared/netif-naming-scheme.h): each scheme is a set of NAMING_*
// flags; `net.naming-scheme=` picks one. Only the flags that change what the model can name are
// listed (the rest concern buses or features the model has no devices for).

/** The scheme versions, oldest first. */
export const NAMING_SCHEMES = [
  "v238",
  "v239",
  "v240",
  "v241",
  "v243",
  "v245",
  "v247",
  "v249",
  "v250",
  "v251",
  "v252",
  "v253",
  "v254",
  "v255",
  "v256",
] as const;

/** A naming scheme name, e.g. "v249". */
export type NamingScheme = (typeof NAMING_SCHEMES)[number];

/** NAMING_* flags the model uses, with the scheme that introduced them. */
export type NamingFlag =
  /** v239: NPAR/ARI function numbers (slot*8+func). */
  | "NPAR_ARI"
  /** v240: `ib` prefix for InfiniBand. */
  | "INFINIBAND"
  /** v240: acpi_index 0 is a valid onboard index. */
  | "ZERO_ACPI_INDEX"
  /** v240: devices renamed by userspace may be renamed again (and `keep` exists). */
  | "ALLOW_RERENAMES"
  /** v247: a slot that belongs to a PCI bridge is not used. */
  | "BRIDGE_NO_SLOT"
  /** v249: 16-bit onboard indexes (before: 14-bit). */
  | "16BIT_INDEX"
  /** v249: strict NAME= sanitising. */
  | "REPLACE_STRICTLY"
  /** v251..v254: a bridge's slot is allowed again for multifunction devices. */
  | "BRIDGE_MULTIFUNCTION_SLOT"
  /** v254: VF representors `pf%uvf%d` get `r<vf>`. */
  | "SR_IOV_R";

const INTRODUCED: Readonly<Record<NamingFlag, NamingScheme>> = {
  NPAR_ARI: "v239",
  INFINIBAND: "v240",
  ZERO_ACPI_INDEX: "v240",
  ALLOW_RERENAMES: "v240",
  BRIDGE_NO_SLOT: "v247",
  "16BIT_INDEX": "v249",
  REPLACE_STRICTLY: "v249",
  BRIDGE_MULTIFUNCTION_SLOT: "v251",
  SR_IOV_R: "v254",
};

/** Flags a later scheme dropped again (v255 dropped BRIDGE_MULTIFUNCTION_SLOT, systemd #28929). */
const DROPPED: Partial<Readonly<Record<NamingFlag, NamingScheme>>> = {
  BRIDGE_MULTIFUNCTION_SLOT: "v255",
};

function order(s: NamingScheme): number {
  return NAMING_SCHEMES.indexOf(s);
}

/** `naming_scheme_has(flag)` for a given scheme. */
export function namingSchemeHas(scheme: NamingScheme, flag: NamingFlag): boolean {
  const o = order(scheme);
  if (o < order(INTRODUCED[flag])) return false;
  const dropped = DROPPED[flag];
  return dropped === undefined || o < order(dropped);
}

/** True if `s` names a scheme the model knows. */
export function isNamingScheme(s: string): s is NamingScheme {
  return (NAMING_SCHEMES as readonly string[]).includes(s);
}
