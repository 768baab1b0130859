/**
 * The share page (/s/CODE): a visitor's sign-in choices, or the reveal (ui/revealpage.js).
 */

import { setUpMagicLinkForm, setUpSharePage } from "../ui/revealpage.js";
import { shareKeysWithOtherTabs, stashFragment } from "../ui/linkkeys.js";

shareKeysWithOtherTabs();
const signIn = document.getElementById("share-signin");
if (signIn) {
  const shareCode = signIn.dataset.shareCode ?? "";
  stashFragment(shareCode);
  setUpMagicLinkForm(`/api/v1/shares/${shareCode}/magic-link`);
} else if (document.getElementById("reveal-panel")) {
  setUpSharePage();
}
