// systemd .link files as udevd loads them (src/udev/net/link-config.c and link-config-gperf.gperf
// of systemd 252; matching in src/shared/net-condition.c, net_match_config()): the keys of
// [Match] and [Link] that decide a device's name, parsed with systemd's semantics (list keys
// append, an empty assignment resets, a leading `!` negates the whole assignment), and every
// other section or key reported by file and line.

import { compileGlob } from "../glob.ts";
import { type AltNamePolicy, ifnameValid, type LinkFile, type NamePolicy } from "./link-policy.ts";
import type { NetMatch } from "./net-match.ts";
import { type ConfDiagnostic, parseSystemdConf, splitWords } from "./systemd-conf.ts";

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const NAME_POLICIES: readonly NamePolicy[] = [
  "keep",
  "kernel",
  "database",
  "onboard",
  "slot",
  "path",
  "mac",
];
const ALT_POLICIES: readonly AltNamePolicy[] = ["database", "onboard", "slot", "path", "mac"];
const MAC_POLICIES = ["persistent", "random", "none"] as const;

/** [Match] keys that are conditions on the host, not the device: not modelled. */
const CONDITIONS = new Set([
  "Host",
  "Virtualization",
  "KernelCommandLine",
  "KernelVersion",
  "Credential",
  "Architecture",
  "Firmware",
]);

/** [Link] keys that configure the device (ethtool, MTU, queues) but never its name. */
const NOT_NAMING = new Set([
  "Description",
  "Alias",
  "MACAddress",
  "TransmitQueues",
  "ReceiveQueues",
  "TransmitQueueLength",
  "MTUBytes",
  "BitsPerSecond",
  "Duplex",
  "AutoNegotiation",
  "WakeOnLan",
  "WakeOnLanPassword",
  "Port",
  "Advertise",
  "ReceiveChecksumOffload",
  "TransmitChecksumOffload",
  "TCPSegmentationOffload",
  "TCP6SegmentationOffload",
  "GenericSegmentationOffload",
  "GenericReceiveOffload",
  "GenericReceiveOffloadHardware",
  "LargeReceiveOffload",
  "RxChannels",
  "TxChannels",
  "OtherChannels",
  "CombinedChannels",
  "RxBufferSize",
  "RxMiniBufferSize",
  "RxJumboBufferSize",
  "TxBufferSize",
  "RxFlowControl",
  "TxFlowControl",
  "AutoNegotiationFlowControl",
  "GenericSegmentOffloadMaxBytes",
  "GenericSegmentOffloadMaxSegments",
  "RxCoalesceSec",
  "TxCoalesceSec",
  "StatisticsBlockCoalesceSec",
  "UseAdaptiveRxCoalesce",
  "UseAdaptiveTxCoalesce",
  "Unmanaged",
  "RequiredForOnline",
  "NTupleFilter",
  "ReceiveVLANCTAGHardwareAcceleration",
  "TransmitVLANCTAGHardwareAcceleration",
  "ReceiveVLANCTAGFilter",
  "TransmitVLANSTAGHardwareAcceleration",
  "PartialGenericSegmentationOffload",
  "ReceivePacketSteeringCPUMask",
  "ReceiveMode",
]);

/** A .link file parsed: the LinkFile the model uses (null: not loaded) and the findings. */
export interface LoadedLink {
  readonly link: LinkFile | null;
  readonly diagnostics: readonly ConfDiagnostic[];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Parses one .link file as link_load_one() of systemd 252 does. `path` is where the file lives
 * (its base name orders it; ID_NET_LINK_FILE names it). A file whose [Match] is empty is not
 * loaded ("No valid settings found in the [Match] section").
 */
export function parseLinkFile(text: string, path: string): LoadedLink {
  const conf = parseSystemdConf(text, path);
  const diags: ConfDiagnostic[] = [...conf.diagnostics];
  if (!conf.ok) return { link: null, diagnostics: diags };
  const d = (line: number, level: ConfDiagnostic["level"], message: string): void => {
    diags.push({ file: path, line, level, message });
  };
  for (const s of conf.sections)
    if (s.name !== "Match" && s.name !== "Link" && !s.name.startsWith("X-"))
      d(s.line, s.name === "SR-IOV" ? "info" : "warning", `Unknown section "[${s.name}]", ignored`);
  const m: Record<string, string[] | undefined> = {};
  let name: string | undefined;
  let namePolicy: NamePolicy[] | undefined;
  let altPolicy: AltNamePolicy[] | undefined;
  let altNames: string[] | undefined;
  let macPolicy: string | undefined;
  const list = (key: string, value: string, line: number, check?: (w: string) => string | null) => {
    if (value === "") {
      m[key] = undefined;
      return;
    }
    const invert = value.startsWith("!");
    const words = splitWords(invert ? value.slice(1) : value);
    if (words === null) {
      d(line, "warning", `Invalid syntax in ${key}= (unterminated quote), ignored`);
      return;
    }
    const acc = m[key] ?? [];
    for (const w of words) {
      const bad = check?.(w) ?? null;
      if (bad !== null) {
        d(line, "warning", `${key}=: ${bad}, "${w}" ignored`);
        continue;
      }
      acc.push(invert ? `!${w}` : w);
    }
    m[key] = acc.length > 0 ? acc : undefined;
  };
  const globCheck = (w: string): string | null => {
    const g = compileGlob(w);
    return "error" in g ? `bad glob (${g.error})` : null;
  };
  for (const a of conf.assignments) {
    if (a.section.startsWith("X-")) continue;
    if (a.section === "Match") {
      switch (a.key) {
        case "MACAddress":
        case "PermanentMACAddress":
          if (a.value.startsWith("!")) {
            d(a.line, "warning", `${a.key}= takes no "!" (not a MAC address), ignored`);
            break;
          }
          list(a.key, a.value.toLowerCase(), a.line, (w) =>
            MAC_RE.test(w) ? null : "not a MAC address",
          );
          break;
        case "OriginalName":
        case "Path":
        case "Driver":
        case "Type":
        case "Kind":
          list(a.key, a.value, a.line, globCheck);
          break;
        case "Property":
          list(a.key, a.value, a.line, (w) =>
            /^[A-Za-z_][A-Za-z0-9_]*=/.test(w) ? null : "not KEY=VALUE",
          );
          break;
        case "Name":
          d(
            a.line,
            "warning",
            'Name= in [Match] is not supported in .link files (systemd: "Unknown key"), ignored',
          );
          break;
        default:
          if (CONDITIONS.has(a.key))
            d(
              a.line,
              "info",
              `[Match] ${a.key}= is a host condition the model does not evaluate: treated as true`,
            );
          else d(a.line, "warning", `Unknown key "${a.key}" in section [Match], ignored`);
      }
      continue;
    }
    if (a.section === "Link") {
      switch (a.key) {
        case "Name":
          if (a.value === "") name = undefined;
          else if (!ifnameValid(a.value))
            d(a.line, "warning", `Name=: "${a.value}" is not a valid interface name, ignored`);
          else name = a.value;
          break;
        case "NamePolicy":
        case "AlternativeNamesPolicy": {
          const allowed: readonly string[] = a.key === "NamePolicy" ? NAME_POLICIES : ALT_POLICIES;
          if (a.value === "") {
            if (a.key === "NamePolicy") namePolicy = undefined;
            else altPolicy = undefined;
            break;
          }
          const out: string[] = [];
          for (const w of a.value.split(/\s+/)) {
            if (!allowed.includes(w)) {
              d(a.line, "warning", `${a.key}=: unknown policy "${w}", ignored`);
              continue;
            }
            if (!out.includes(w)) out.push(w);
          }
          if (a.key === "NamePolicy") namePolicy = out as NamePolicy[];
          else altPolicy = out as AltNamePolicy[];
          break;
        }
        case "AlternativeName":
          if (a.value === "") {
            altNames = undefined;
            break;
          }
          for (const w of a.value.split(/\s+/)) {
            if (w.length > 127 || /[/:\s]/.test(w) || /^[0-9]+$/.test(w) || w === "." || w === "..")
              d(
                a.line,
                "warning",
                `AlternativeName=: "${w}" is not a valid alternative name, ignored`,
              );
            else {
              altNames = altNames ?? [];
              altNames.push(w);
            }
          }
          break;
        case "MACAddressPolicy":
          if (a.value === "") macPolicy = undefined;
          else if (!(MAC_POLICIES as readonly string[]).includes(a.value))
            d(a.line, "warning", `MACAddressPolicy=: unknown policy "${a.value}", ignored`);
          else {
            macPolicy = a.value;
            if (a.value !== "none")
              d(
                a.line,
                "info",
                `MACAddressPolicy=${a.value} is not modelled: it changes only addresses the kernel made up (addr_assign_type random), which no modelled NIC has`,
              );
          }
          break;
        default:
          if (NOT_NAMING.has(a.key))
            d(
              a.line,
              "info",
              `[Link] ${a.key}= does not affect naming and is not modelled, ignored`,
            );
          else d(a.line, "warning", `Unknown key "${a.key}" in section [Link], ignored`);
      }
    }
    // assignments in unknown sections were reported with their section header
  }
  const netMatch: NetMatch = {
    ...(m.MACAddress ? { mac: m.MACAddress } : {}),
    ...(m.PermanentMACAddress ? { permanentMac: m.PermanentMACAddress } : {}),
    ...(m.OriginalName ? { originalName: m.OriginalName } : {}),
    ...(m.Path ? { path: m.Path } : {}),
    ...(m.Driver ? { driver: m.Driver } : {}),
    ...(m.Type ? { type: m.Type } : {}),
    ...(m.Kind ? { kind: m.Kind } : {}),
    ...(m.Property ? { property: m.Property } : {}),
  };
  if (Object.keys(netMatch).length === 0) {
    d(
      0,
      "warning",
      "No valid settings found in the [Match] section, file ignored (to match every interface, add OriginalName=*)",
    );
    return { link: null, diagnostics: diags };
  }
  const link: LinkFile = {
    file: baseName(path),
    path,
    netMatch,
    ...(namePolicy ? { namePolicy } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(altPolicy ? { alternativeNamesPolicy: altPolicy } : {}),
    ...(altNames ? { alternativeNames: altNames } : {}),
    ...(macPolicy !== undefined ? { macAddressPolicy: macPolicy } : {}),
  };
  return { link, diagnostics: diags };
}
