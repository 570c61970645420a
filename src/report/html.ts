// The HTML report: one self-contained file (inline style and script, a Content-Security-Policy
// that lets it load nothing) holding the report document as JSON. Pure: the same document gives
// the same bytes.

import { PAGE_CSS, PAGE_JS } from "./page.ts";
import type { ReportDoc } from "./types.ts";

/**
 * `value` as JSON that is safe inside a `<script type="application/json">` element: `<`, `>`
 * and `&` are written as `\u003c`, `\u003e` and `\u0026` (so no `</script>` or `<!--` can end
 * or change the element), and U+2028/U+2029 as escapes too. JSON.parse gives back the same value.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** `s` with the five HTML special characters escaped (for text and attribute values). */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/**
 * The report as one HTML page. It needs no network: the style and the script are inline and
 * the page's Content-Security-Policy allows nothing else (no fetch, image, font or frame).
 * @example renderHtml(runReport([{ record, states }], { file: "s.yaml" })) // "<!DOCTYPE html>…"
 */
export function renderHtml(doc: ReportDoc): string {
  const csp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ifsim">
<title>${escapeHtml(`${doc.title} — ifsim ${doc.kind}`)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main id="report" data-kind="${escapeHtml(doc.kind)}"></main>
<noscript><p>This ifsim report is drawn by its inline script: enable JavaScript to see it (the data is in the page, as JSON).</p></noscript>
<script type="application/json" id="ifsim-data">${scriptJson(doc)}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}
