// The host side of the agent protocol (guest.ts): turns the bytes of the serial channel into
// replies. Pure: fed with chunks, returns what it found; tolerant of console noise.

/** One reply of the agent: its fields, decoded. */
export interface AgentReply {
  readonly seq: number;
  readonly fields: Readonly<Record<string, string>>;
}

/** What the parser found in a chunk. */
export type ChannelItem =
  | { readonly kind: "hello"; readonly uptime: string }
  | { readonly kind: "reply"; readonly reply: AgentReply }
  | { readonly kind: "error"; readonly message: string };

const B64_LINE = /^[A-Za-z0-9+/=]*$/;

/** Incremental parser of the guest → host channel. */
export class ChannelParser {
  #buf = "";
  #seq: number | null = null;
  #fields: Record<string, string> = {};
  #field: { key: string; bytes: number; b64: string[] } | null = null;
  /** Lines that were not part of the protocol (console noise), for diagnostics. */
  readonly noise: string[] = [];

  /** Feeds bytes (latin1 or utf8 text: the protocol itself is ASCII). */
  push(chunk: string): ChannelItem[] {
    this.#buf += chunk;
    const items: ChannelItem[] = [];
    for (let i = this.#buf.indexOf("\n"); i >= 0; i = this.#buf.indexOf("\n")) {
      const line = this.#buf.slice(0, i).replace(/\r+$/, "");
      this.#buf = this.#buf.slice(i + 1);
      const item = this.#line(line);
      if (item) items.push(item);
    }
    return items;
  }

  #line(raw: string): ChannelItem | null {
    // A record may follow noise on the same line (a console write without newline): take the
    // last "@@" onwards.
    const at = raw.lastIndexOf("@@");
    if (this.#field) {
      if (at < 0) {
        const l = raw.trim();
        if (B64_LINE.test(l)) this.#field.b64.push(l);
        else this.noise.push(raw);
        return null;
      }
      const line = raw.slice(at);
      if (line === "@@E") {
        const f = this.#field;
        this.#field = null;
        const buf = Buffer.from(f.b64.join(""), "base64");
        if (buf.length !== f.bytes)
          return {
            kind: "error",
            message: `field ${f.key}: ${buf.length} bytes decoded, ${f.bytes} announced`,
          };
        this.#fields[f.key] = buf.toString("utf8");
        return null;
      }
      // a record inside a field: the field (and its reply) was cut; the record still counts
      // (a new @@BEGIN starts the next reply)
      const f = this.#field;
      this.#field = null;
      this.#seq = null;
      this.#record(line);
      return { kind: "error", message: `field ${f.key} cut by "${line}"` };
    }
    if (at < 0) {
      if (raw.trim() !== "") this.noise.push(raw);
      return null;
    }
    return this.#record(raw.slice(at));
  }

  #record(line: string): ChannelItem | null {
    const [tag, a, b] = line.split(" ");
    switch (tag) {
      case "@@HELLO":
        return { kind: "hello", uptime: a ?? "" };
      case "@@BEGIN":
        this.#seq = Number(a);
        this.#fields = {};
        return null;
      case "@@F":
        if (this.#seq === null) return { kind: "error", message: `field outside a reply: ${line}` };
        this.#field = { key: a ?? "?", bytes: Number(b), b64: [] };
        return null;
      case "@@END": {
        const seq = Number(a);
        if (this.#seq !== seq) return { kind: "error", message: `@@END ${a} without @@BEGIN ${a}` };
        this.#seq = null;
        return { kind: "reply", reply: { seq, fields: this.#fields } };
      }
      default:
        this.noise.push(line);
        return null;
    }
  }
}

/** A request line for the agent. */
export function requestLine(seq: number, op: string, args: readonly string[] = []): string {
  for (const a of args)
    if (/[\s]/.test(a) || a === "") throw new Error(`agent argument "${a}" must be one word`);
  return `@@REQ ${[seq, op, ...args].join(" ")}\n`;
}
