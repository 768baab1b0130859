"""HTTP routes; each module is thin and calls ``core.services``."""
