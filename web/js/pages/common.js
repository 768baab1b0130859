/**
 * Loaded by every page.
 *
 * On a share page (/s/CODE), whatever it says (denied, ended, not found), move the link key
 * out of the address bar and history into this tab's storage, so a key never lingers in the
 * URL of a page that does not use it. Opening the same link again from this page changes only
 * the fragment (no reload), hence the hashchange listener.
 *
 * Every server-rendered time is shown in the viewer's own time zone, relative to now, and
 * every destructive form asks before it is sent.
 */

import { confirmDestructiveForms } from "../ui/confirm.js";
import { requestSlot, stashFragment } from "../ui/linkkeys.js";
import { localizeTimes } from "../ui/times.js";

const shareCode = /^\/s\/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/.exec(window.location.pathname);
if (shareCode) {
  stashFragment(shareCode[1]);
  window.addEventListener("hashchange", () => stashFragment(shareCode[1]));
}

// A request page (/r/CODE) likewise: its key answers the request, and opens its answer.
const requestCode = /^\/r\/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/.exec(window.location.pathname);
if (requestCode) {
  const slot = requestSlot(requestCode[1]);
  stashFragment(slot);
  window.addEventListener("hashchange", () => stashFragment(slot));
}

confirmDestructiveForms(document);
localizeTimes(document);
window.setInterval(() => localizeTimes(document), 60_000);  // "in 5 minutes" stays true
