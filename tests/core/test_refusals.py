"""One path from a refusal to what a person reads, for the API, the pages and Slack."""

from __future__ import annotations

from core import errors
from core.refusals import field_note, public_message, sentence


def test_a_domain_refusal_reads_as_a_sentence() -> None:
    refusal = errors.AccessDenied("only super admins can read the audit log")
    assert sentence(refusal) == "Only super admins can read the audit log."
    assert sentence(errors.Conflict("this secret is already revoked.")) == (
        "This secret is already revoked.")


def test_a_field_note_adds_no_full_stop_after_an_address() -> None:
    refusal = errors.InvalidInput("not members of your organization: guest@elsewhere.org",
                                  field="recipients")
    assert field_note(refusal) == "Not members of your organization: guest@elsewhere.org"


def test_backend_failures_never_show_their_own_words() -> None:
    leaky = errors.BlobStoreError("PUT s3://bucket/default/3f1c/ab.csl1 failed: 500")
    assert "s3://" not in public_message(leaky) and "s3://" not in sentence(leaky)
    assert sentence(leaky).startswith("Stored content cannot be reached right now")
    rejected = errors.VaultRejected("kms key arn:aws:kms:… disabled")
    assert "arn:" not in sentence(rejected)
