"""Key management backends: a development master-key file and AWS KMS."""
