import { describe, expect, it } from "vitest";

import { pieces } from "./highlight";

describe("pieces", () => {
  it("splits matches from the text around them", () => {
    expect(pieces("restart the <b>broker</b> and <b>consumers</b>")).toEqual([
      { text: "restart the ", match: false },
      { text: "broker", match: true },
      { text: " and ", match: false },
      { text: "consumers", match: true },
    ]);
  });

  it("gives a document's escaped markup back as text, never as tags", () => {
    expect(
      pieces("&lt;script&gt;x&lt;/script&gt; <b>&amp;</b> &quot;q&quot; &#x27;s&#x27;"),
    ).toEqual([
      { text: "<script>x</script> ", match: false },
      { text: "&", match: true },
      { text: " \"q\" 's'", match: false },
    ]);
  });
});
