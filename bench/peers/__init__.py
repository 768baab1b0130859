"""Other secret-sharing apps, run and driven the way their own users would, for benches that
compare them with Cipherslip."""
