import { describe, expect, it } from "vitest";

import en from "./locales/en.json";
import ptBR from "./locales/pt-BR.json";

/** Every key of a nested message object, as a dotted path. */
function keys(messages: object, prefix = ""): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === "object" && value !== null
      ? keys(value as object, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

describe("the console's languages", () => {
  it("say every message in both", () => {
    expect(keys(ptBR).sort()).toEqual(keys(en).sort());
  });

  it("leave no message empty", () => {
    const empty = [en, ptBR].flatMap((messages) =>
      keys(messages).filter((key) => {
        const value = key.split(".").reduce<unknown>((at, part) => (at as never)[part], messages);
        return typeof value !== "string" || value.trim() === "";
      }),
    );
    expect(empty).toEqual([]);
  });
});
