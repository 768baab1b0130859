"""The ``cipherslip`` command: run each process, migrate, and the one-command dev stack."""
