// What every part of the page shares: figures people read, the server's
// reasons for a refusal, and a response body read piece by piece.

const numbers = new Intl.NumberFormat("en");

/** A count with thousands separators: 1,000,000. */
export function count(value) {
  return numbers.format(value);
}

/** Bytes as people read them: 512 B, 64.0 kB, 1.25 MB. */
export function bytes(value) {
  if (value < 1000) return `${value} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let scaled = value / 1000;
  let unit = 0;
  while (scaled >= 1000 && unit < units.length - 1) {
    scaled /= 1000;
    unit += 1;
  }
  return `${scaled.toFixed(scaled < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Seconds since `started` (a performance.now() reading), as text. */
export function seconds(started) {
  return ((performance.now() - started) / 1000).toFixed(2);
}

/** Show `text` in a state line, and say in `data-state` where things stand. */
export function report(element, state, text) {
  element.dataset.state = state;
  element.textContent = text;
}

/** What FastAPI's `detail` says, whether a sentence or a list of problems. */
function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((problem) => `${(problem.loc ?? []).join(".")}: ${problem.msg}`).join("; ");
  }
  return detail === undefined ? "" : JSON.stringify(detail);
}

/** A refused request in one line: its status and, when it gave them, the server's words. */
export async function refusal(response) {
  let detail = "";
  try {
    detail = describe((await response.json()).detail);
  } catch {
    // Not JSON: the status says it all.
  }
  const status = `${response.status} ${response.statusText}`.trim();
  return detail ? `${status}: ${detail}` : status;
}

/**
 * GET `url` and read its body as it arrives; `onPiece(piece, received, response)`
 * sees every piece. Resolves with the bytes received when the body ends; rejects
 * with the server's reasons for an error status, or when the body is cut short.
 */
export async function receive(url, { signal, onStart = () => {}, onPiece }) {
  const response = await fetch(url, { signal, cache: "no-store" });
  if (!response.ok) throw new Error(await refusal(response));
  onStart(response);
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return received;
    received += value.byteLength;
    onPiece(value, received, response);
  }
}
