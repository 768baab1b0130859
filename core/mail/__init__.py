"""Outgoing mail: magic links for external recipients."""
