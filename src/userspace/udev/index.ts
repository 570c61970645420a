// The udev-like userspace: the net_id naming builtin, .link NamePolicy, and the udevd actor.

export { type LoadedLink, parseLinkFile } from "./link-config.ts";
export {
  type AltNamePolicy,
  type ChooseNameInput,
  chooseName,
  DEFAULT_LINK_FILE,
  DEFAULT_NAME_POLICY,
  databaseName,
  idPath,
  ifnameValid,
  type LinkFile,
  type LinkMatch,
  linkTypeString,
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
  type MatchSubject,
  type NetMatch,
  netConditionTestStrv,
  netMatchConfig,
} from "./net-match.ts";
export {
  applyRules,
  parseRulesFile,
  RULE_BUILTINS,
  type RuleContext,
  type RuleLine,
  type RulesFile,
  type RulesResult,
  type RuleToken,
} from "./rules.ts";
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
  type ConfAssignment,
  type ConfDiagnostic,
  type ParsedConf,
  parseSystemdConf,
  splitWords,
} from "./systemd-conf.ts";
export {
  DEFAULT_LINK_PATH,
  defaultLinkText,
  formatConfDiagnostic,
  loadUdevFiles,
  NET_SETUP_LINK_RULES,
  NET_SETUP_LINK_RULES_PATH,
  NETWORK_DIRS,
  RULES_DIRS,
  type UdevFiles,
  type UdevFilesOptions,
} from "./udev-files.ts";
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
