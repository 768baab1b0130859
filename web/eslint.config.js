// Lint for the browser code (`make test` runs it with the type check): the recommended
// rules, plus the few that catch what bit us in crypto code (shadowing, loose equality).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["js/**/*.js", "build.mjs", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.serviceworker },
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-shadow": "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["build.mjs"],
    languageOptions: { globals: globals.node },
  },
];
