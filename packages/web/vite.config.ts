import react from "@vitejs/plugin-react"
import { defineConfig } from "vite"

// `vite` serves the UI on :5173 and forwards /api to a running Microbank (`npm start`, :8080).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2022" },
  server: { proxy: { "/api": process.env.MICROBANK_URL ?? "http://127.0.0.1:8080" } }
})
