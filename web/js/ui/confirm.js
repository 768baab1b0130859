/**
 * Destructive forms ask first. A form with `data-confirm="what happens"` (and optionally
 * `data-confirm-title` and `data-confirm-action`, the confirming button's label) opens a modal
 * dialog on submit; only its confirming button sends the form. Escape or Cancel send nothing.
 */

/**
 * @param {HTMLFormElement} form
 * @returns {HTMLDialogElement}
 */
function dialogFor(form) {
  const dialog = document.createElement("dialog");
  dialog.className = "confirm";
  dialog.setAttribute("aria-labelledby", "confirm-title");
  dialog.setAttribute("aria-describedby", "confirm-message");
  const title = document.createElement("h2");
  title.id = "confirm-title";
  title.textContent = form.dataset.confirmTitle ?? "Are you sure?";
  const message = document.createElement("p");
  message.id = "confirm-message";
  message.textContent = form.dataset.confirm ?? "";
  const buttons = document.createElement("div");
  buttons.className = "row";
  const confirm = document.createElement("button");
  confirm.type = "button";
  confirm.className = "danger";
  confirm.textContent = form.dataset.confirmAction ?? "Confirm";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.textContent = "Cancel";
  buttons.append(confirm, cancel);
  dialog.append(title, message, buttons);
  cancel.addEventListener("click", () => dialog.close());
  confirm.addEventListener("click", () => {
    dialog.close();
    form.dataset.confirmed = "yes";
    form.requestSubmit();
  });
  dialog.addEventListener("close", () => dialog.remove());
  return dialog;
}

/** @param {ParentNode} root */
export function confirmDestructiveForms(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      const target = /** @type {HTMLFormElement} */ (event.currentTarget);
      if (target.dataset.confirmed === "yes") return;
      event.preventDefault();
      const dialog = dialogFor(target);
      document.body.append(dialog);
      dialog.showModal();
      // Focus the safe choice first: Enter must not destroy anything by accident.
      /** @type {HTMLButtonElement} */ (dialog.querySelector("button.secondary")).focus();
    });
  }
}
