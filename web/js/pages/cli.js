/**
 * After approving (or denying) the CLI: go back to its loopback address. By script rather
 * than by a redirect, which the page's form-action CSP would block.
 */

const link = document.getElementById("back-to-cli");
if (link instanceof HTMLAnchorElement && link.dataset.go) {
  const target = new URL(link.dataset.go);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(target.hostname);
  if (target.protocol === "http:" && loopback) window.location.replace(target.href);
}
