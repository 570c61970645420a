// iproute2 lib/json_writer.c: the JSON writer behind `ip -j` (and `-j -p`), byte for byte.

/**
 * A streaming JSON writer with iproute2's separator and pretty-print rules: values in an
 * array stay on one line (`[ "A","B" ]` when pretty), object members go one per line.
 */
export class JsonWriter {
  #out = "";
  #depth = 0;
  #sep = "";
  readonly #pretty: boolean;

  constructor(pretty: boolean) {
    this.#pretty = pretty;
  }

  /** The text written so far. */
  get text(): string {
    return this.#out;
  }

  #eol(): void {
    if (!this.#pretty) return;
    this.#out += `\n${"    ".repeat(this.#depth)}`;
  }

  #eor(): void {
    if (this.#sep !== "") this.#out += this.#sep;
    this.#sep = ",";
  }

  #begin(c: string): void {
    this.#eor();
    this.#out += c;
    this.#depth++;
    this.#sep = "";
  }

  #end(c: string): void {
    this.#depth--;
    if (this.#sep !== "") this.#eol();
    this.#out += c;
    this.#sep = ",";
  }

  /** jsonw_name(). */
  name(name: string): void {
    this.#eor();
    this.#eol();
    this.#sep = "";
    this.#out += `${quote(name)}:`;
    if (this.#pretty) this.#out += " ";
  }

  startObject(): void {
    this.#begin("{");
  }

  endObject(): void {
    this.#end("}");
  }

  startArray(): void {
    this.#begin("[");
    if (this.#pretty) this.#out += " ";
  }

  endArray(): void {
    if (this.#pretty && this.#sep !== "") this.#out += " ";
    this.#sep = "";
    this.#end("]");
  }

  /** A string, number, boolean or null value. */
  value(v: string | number | boolean | null): void {
    this.#eor();
    this.#out += typeof v === "string" ? quote(v) : String(v);
  }

  /** name + value. */
  field(name: string, v: string | number | boolean | null): void {
    this.name(name);
    this.value(v);
  }
}

/** jsonw_puts(): escapes only TAB, LF, CR, FF, BS, backslash and double quote. */
function quote(s: string): string {
  let r = '"';
  for (const ch of s) {
    switch (ch) {
      case "\t":
        r += "\\t";
        break;
      case "\n":
        r += "\\n";
        break;
      case "\r":
        r += "\\r";
        break;
      case "\f":
        r += "\\f";
        break;
      case "\b":
        r += "\\b";
        break;
      case "\\":
        r += "\\\\";
        break;
      case '"':
        r += '\\"';
        break;
      default:
        r += ch;
    }
  }
  return `${r}"`;
}
