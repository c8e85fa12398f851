import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the console with hot reload and sends the API to a running gateway
// (GATEWAY_URL, by default the one `make run` starts).
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/v1": { target: gateway, changeOrigin: true } } },
  build: { outDir: "dist", emptyOutDir: true },
});
