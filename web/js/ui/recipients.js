/**
 * The recipients field of the create page: typed or pasted addresses become chips; colleagues
 * are suggested from the org directory (internal secrets only). Under *Team members*, an
 * address outside the organization's domains is flagged on its chip as it is added, with a
 * one-click switch to *External recipients* (the server would refuse it otherwise).
 */

import { apiRequest } from "./api.js";
import { byId } from "./dom.js";

const EMAIL = /^[^@\s,;<>()[\]"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export class RecipientField {
  /**
   * @param {() => "internal" | "external"} audience
   * @param {string[]} internalDomains the organization's email domains
   * @param {() => void} shareExternally switches the form to external recipients
   */
  constructor(audience, internalDomains, shareExternally) {
    this.audience = audience;
    this.internalDomains = internalDomains.map((domain) => domain.toLowerCase());
    this.shareExternally = shareExternally;
    /** @type {string[]} */
    this.emails = [];
    this.input = /** @type {HTMLInputElement} */ (byId("recipient-input"));
    this.list = byId("recipient-list");
    this.suggestions = byId("recipient-suggestions");
    this._timer = 0;
    this.input.addEventListener("input", () => this._onInput());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.takeTyped();
      }
    });
    this.input.addEventListener("blur", () => this.takeTyped());
  }

  clearSuggestions() {
    this.suggestions.replaceChildren();
  }

  /** @returns {string[]} the addresses a secret for team members cannot go to */
  outsiders() {
    if (this.audience() === "external") return [];
    return this.emails.filter((email) => !this.internalDomains.includes(email.split("@").pop() ?? ""));
  }

  render() {
    this._render();
  }

  _render() {
    const outsiders = this.outsiders();
    this.list.replaceChildren(...this.emails.map((email) => {
      const item = document.createElement("li");
      item.dataset.email = email;
      const text = document.createElement("span");
      text.textContent = email;
      if (outsiders.includes(email)) {
        item.classList.add("outside");
        const note = document.createElement("small");
        note.textContent = "outside your organization";
        const switcher = document.createElement("button");
        switcher.type = "button";
        switcher.className = "link";
        switcher.textContent = "Share externally instead";
        switcher.addEventListener("click", () => this.shareExternally());
        text.append(" ", note);
        item.append(text, switcher);
      } else {
        item.append(text);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Remove ${email}`);
      remove.addEventListener("click", () => {
        this.emails.splice(this.emails.indexOf(email), 1);
        this._render();
      });
      item.append(remove);
      return item;
    }));
  }

  /**
   * Move whatever is typed or pasted in the input into the list.
   * @returns {string[]} what was typed but is not an email address (left in the input)
   */
  takeTyped() {
    const typed = this.input.value.split(/[\s,;]+/).map((part) => part.trim().toLowerCase())
      .filter(Boolean);
    const invalid = typed.filter((email) => !EMAIL.test(email));
    for (const email of typed) {
      if (EMAIL.test(email) && !this.emails.includes(email)) this.emails.push(email);
    }
    this.input.value = invalid.join(", ");
    this._render();
    return invalid;
  }

  _onInput() {
    if (/[,;\s]/.test(this.input.value)) this.takeTyped();
    window.clearTimeout(this._timer);
    const query = this.input.value.trim();
    // The org directory only helps with colleagues.
    if (query.length < 2 || this.audience() === "external") return;
    this._timer = window.setTimeout(async () => {
      try {
        const users = await apiRequest("GET", `/api/v1/users?q=${encodeURIComponent(query)}`);
        this.suggestions.replaceChildren(...users.map((/** @type {{email: string, name: string}} */ user) => {
          const option = document.createElement("option");
          option.value = user.email;
          option.label = user.name;
          return option;
        }));
      } catch {
        // Suggestions are a convenience; typing the address still works.
      }
    }, 200);
  }
}
