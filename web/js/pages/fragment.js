/**
 * Loaded by every page. On a share page (/s/CODE), whatever it says (denied, ended, not
 * found), move the link key out of the address bar and history into this tab's storage, so a
 * key never lingers in the URL of a page that does not use it. Opening the same link again
 * from this page changes only the fragment (no reload), hence the hashchange listener.
 */

import { stashFragment } from "../ui/linkkeys.js";

const shareCode = /^\/s\/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/.exec(window.location.pathname);
if (shareCode) {
  stashFragment(shareCode[1]);
  window.addEventListener("hashchange", () => stashFragment(shareCode[1]));
}
