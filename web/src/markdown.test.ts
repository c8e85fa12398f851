import { describe, expect, it } from "vitest";

import { renderMarkdown } from "./markdown";

describe("renderMarkdown", () => {
  it("renders Markdown", () => {
    expect(renderMarkdown("**bold** and `code`")).toBe(
      "<p><strong>bold</strong> and <code>code</code></p>\n",
    );
  });

  it("shows raw HTML as text, never as elements", () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)"> <script>alert(2)</script>');
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("links only to the web and mail, opening outside the console", () => {
    expect(renderMarkdown("[x](javascript:alert(1))")).not.toContain("<a");
    expect(renderMarkdown("[x](data:text/html,hi)")).not.toContain("<a");
    expect(renderMarkdown("[docs](https://example.org)")).toContain(
      '<a href="https://example.org" rel="noopener noreferrer" target="_blank">docs</a>',
    );
  });

  it("highlights code of a known language and escapes the rest", () => {
    const python = renderMarkdown("```python\ndef f():\n    return 1\n```");
    expect(python).toContain('<code class="language-python">');
    expect(python).toContain('<span class="hljs-keyword">def</span>');
    const unknown = renderMarkdown("```cobol\n<b>not bold</b>\n```");
    expect(unknown).toContain("&lt;b&gt;not bold&lt;/b&gt;");
  });
});
