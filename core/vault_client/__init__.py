"""How the api reaches the vault: a Protocol and its HTTP implementation."""
