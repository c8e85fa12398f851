/** A model's Markdown as HTML that can only be markup: raw HTML in the text is shown as text
 * (markdown-it's `html: false`), links only to http(s) and mail, code highlighted by
 * highlight.js (a few common languages; the rest shown plain). */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import yaml from "highlight.js/lib/languages/yaml";
import MarkdownIt from "markdown-it";

for (const [name, language] of Object.entries({
  bash,
  javascript,
  json,
  python,
  sql,
  typescript,
  yaml,
})) {
  hljs.registerLanguage(name, language);
}

const markdown = new MarkdownIt({
  html: false,
  linkify: false,
  highlight(code: string, language: string): string {
    if (!language || !hljs.getLanguage(language)) return ""; // markdown-it escapes it
    const highlighted = hljs.highlight(code, { language, ignoreIllegals: true }).value;
    return `<pre class="hljs"><code class="language-${language}">${highlighted}</code></pre>`;
  },
});
const SAFE_LINK = /^(https?:|mailto:)/i;
markdown.validateLink = (url: string) => SAFE_LINK.test(url.trim());

// Links open outside the console, and tell the page they came from nothing.
const renderLink = markdown.renderer.rules.link_open;
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index].attrSet("rel", "noopener noreferrer");
  tokens[index].attrSet("target", "_blank");
  return renderLink
    ? renderLink(tokens, index, options, env, self)
    : self.renderToken(tokens, index, options);
};

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
