import { describe, expect, it } from "vitest";

import { parseEvent, serverEvents, type ServerEvent } from "./sse";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      chunks.forEach((chunk) => controller.enqueue(chunk));
      controller.close();
    },
  });
}

async function read(chunks: Uint8Array[]): Promise<ServerEvent[]> {
  const found: ServerEvent[] = [];
  for await (const event of serverEvents(streamOf(chunks))) found.push(event);
  return found;
}

const STREAM =
  'event: start\ndata: {"request_id":"r"}\n\n' +
  ": a comment keeps the connection alive\n\n" +
  'event: delta\ndata: {"text":"olá, ação"}\n\n' +
  "data: line one\ndata: line two\n\n" +
  'event: done\ndata: {"usage":{}}';

describe("serverEvents", () => {
  const expected = [
    { event: "start", data: '{"request_id":"r"}' },
    { event: "delta", data: '{"text":"olá, ação"}' },
    { event: "message", data: "line one\nline two" },
    { event: "done", data: '{"usage":{}}' },
  ];

  it("reads the events of one chunk", async () => {
    expect(await read([new TextEncoder().encode(STREAM)])).toEqual(expected);
  });

  it("reads the same events split at every byte, characters included", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const oneByOne = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(await read(oneByOne)).toEqual(expected);
  });

  it("takes CRLF line ends as LF", async () => {
    const crlf = new TextEncoder().encode("event: delta\r\ndata: x\r\n\r\n");
    expect(await read([crlf])).toEqual([{ event: "delta", data: "x" }]);
  });
});

describe("parseEvent", () => {
  it("is nothing without data", () => {
    expect(parseEvent("event: ping")).toBeNull();
    expect(parseEvent(": only a comment")).toBeNull();
  });

  it("keeps a value's colons and drops one leading space", () => {
    expect(parseEvent("data:  a: b")).toEqual({ event: "message", data: " a: b" });
  });
});
