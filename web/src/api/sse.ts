/** Server-sent events read from a fetch response body: one `{event, data}` per event, as the
 * bytes arrive (a chunk may end anywhere, even inside a character). */

export interface ServerEvent {
  event: string;
  data: string;
}

export async function* serverEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const parsed = parseEvent(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      if (parsed) yield parsed;
    }
  }
  const last = parseEvent(buffered);
  if (last) yield last;
}

/** One event's lines: `event:` names it (default `message`), `data:` lines join with newlines,
 * comments (`:`) are skipped; an event with no data is none. */
export function parseEvent(block: string): ServerEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}
