"""APScheduler jobs: expiry purges, burn finalization, abandoned uploads, token cleanup.

Until it lands, expiry is enforced at read time (``core.services.lifecycle``) and failed blob
deletes stay recorded on the secret (``blob_key`` still set) for the purge job to retry."""
