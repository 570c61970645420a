// UTF-8 byte lengths of JavaScript strings without encoding them (hot paths: names are checked
// against IFNAMSIZ on every command).

/**
 * The number of bytes `TextEncoder().encode(s)` would produce (a lone surrogate becomes the
 * 3-byte U+FFFD, as there).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** True when every character of `s` is ASCII (one byte each in UTF-8). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}
