import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import "highlight.js/styles/github.css";
import "./i18n";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
