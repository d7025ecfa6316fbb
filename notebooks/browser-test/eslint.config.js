// ESLint for the browser test (`npm run lint`; `./lab test` runs it): the recommended rules, and
// Node's globals, since the test runs on Node (node --test) and drives Chromium from there.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.node,
    },
  },
  {
    // The functions a test hands to Playwright (page.waitForFunction, locator.evaluate) run in the
    // page, in Chromium: these browser globals are theirs, and only these.
    files: ["**/*.test.mjs"],
    languageOptions: {
      globals: {
        document: "readonly",
        getComputedStyle: "readonly",
        window: "readonly",
      },
    },
  },
];
