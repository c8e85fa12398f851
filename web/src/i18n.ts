/** Portuguese (Brazil) and English: the browser's choice first, the person's once switched. */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

import en from "./locales/en.json";
import ptBR from "./locales/pt-BR.json";

export const LANGUAGES = { "pt-BR": "Português (Brasil)", en: "English" } as const;
export type Language = keyof typeof LANGUAGES;
const CHOSEN = "na.language";

export function initialLanguage(): Language {
  const chosen = localStorage.getItem(CHOSEN);
  if (chosen === "en" || chosen === "pt-BR") return chosen;
  return navigator.languages.some((l) => l.toLowerCase().startsWith("pt")) ? "pt-BR" : "en";
}

export function choose(language: Language): void {
  localStorage.setItem(CHOSEN, language);
  void i18n.changeLanguage(language);
  document.documentElement.lang = language;
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, "pt-BR": { translation: ptBR } },
  lng: initialLanguage(),
  fallbackLng: "en",
  interpolation: { escapeValue: false }, // React escapes what it renders
});
document.documentElement.lang = i18n.language;

export default i18n;
