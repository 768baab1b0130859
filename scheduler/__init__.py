"""The purge jobs (``scheduler.jobs``) and their runner (``scheduler.runner``).

They make "content is destroyed" true for secrets nobody touches again: expired secrets lose
their key and ciphertext within a minute, abandoned uploads disappear after an hour, failed
deletes are retried, and spent magic links are removed."""
