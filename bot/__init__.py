"""The Slack app (Bolt): /share-secret modal, admin commands, unfurls, App Home, creator
notifications. It arrives with the Slack issue and calls the same ``core.services``."""
