"""``slip``: Cipherslip's command-line client. It talks to a Cipherslip server's ``/api/v1``
with a personal API token and never sends plaintext or a link key anywhere."""
