// Gzipped copies of the built scripts and styles, which the gateway sends to browsers that
// accept them (it compresses nothing on the fly).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const assets = new URL("../dist/assets/", import.meta.url).pathname;
for (const name of readdirSync(assets)) {
  if (!/\.(js|css|svg)$/.test(name)) continue;
  const path = join(assets, name);
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
}
