/** A search hit's highlight (HTML-escaped text with `<b>` around matches, as ingestion makes
 * it) as plain pieces, so the page renders text and marks — never the string as HTML. */

export interface Piece {
  text: string;
  match: boolean;
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#x27;": "'",
  "&#39;": "'",
};

export function pieces(highlight: string): Piece[] {
  return highlight
    .split(/(<b>.*?<\/b>)/s)
    .filter(Boolean)
    .map((part) => {
      const match = part.startsWith("<b>") && part.endsWith("</b>");
      const text = match ? part.slice(3, -4) : part;
      return { text: text.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (e) => ENTITIES[e]), match };
    });
}
