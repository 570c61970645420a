// The udev-like userspace: the net_id naming builtin, .link NamePolicy, and the udevd actor.

export {
  type ChooseNameInput,
  chooseName,
  DEFAULT_LINK_FILE,
  DEFAULT_NAME_POLICY,
  databaseName,
  idPath,
  ifnameValid,
  type LinkFile,
  type LinkMatch,
  matchLinkFile,
  type NameChoice,
  type NameDatabase,
  type NamePolicy,
} from "./link-policy.ts";
export {
  fnmatch,
  hwdbNameAllow,
  type NameAllowDb,
  nameAllowKey,
  namingSysattrAllowed,
} from "./name-allow.ts";
export {
  isNamingScheme,
  NAMING_SCHEMES,
  type NamingFlag,
  type NamingScheme,
  namingSchemeHas,
} from "./naming-scheme.ts";
export {
  hotplugSlot,
  macName,
  type NetIdNames,
  type NetIdOptions,
  netId,
  netIdPrefix,
  onboardName,
  pciSlotSpecifiers,
  portSpecifier,
} from "./net-id.ts";
export {
  ethtoolDriver,
  type FirmwareConfig,
  hotplugSlotOf,
  type NetFacts,
  netDevpath,
  type PciFacts,
  pciChainOf,
  readNetFacts,
} from "./sysfs-facts.ts";
export {
  DEFAULT_NAMING_SCHEME,
  LEGACY_RETRY_INTERVAL_US,
  LEGACY_RETRY_TRIES,
  UDEV_GENERATIONS,
  type UdevDbEntry,
  type UdevDbView,
  Udevd,
  type UdevdConfig,
  type UdevdSnapshot,
  type UdevdView,
  type UdevEventView,
  type UdevGeneration,
  type UdevJobView,
  type UdevLogLevel,
  type UdevLogLine,
  type UdevProcessed,
  type UdevRename,
} from "./udevd.ts";
