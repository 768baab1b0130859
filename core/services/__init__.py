"""Domain logic, written once: API routes, pages, Slack listeners and the CLI all call these."""
