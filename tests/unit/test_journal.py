"""The journal without I/O: records built, hashed and chained; a run of stored records checked
(a record edited, deleted, or signed by another key is refused by name); the signing key planned;
the evidence bundle's "continuously compliant since" and its HTML."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from vigil.evidence_html import render
from vigil.planning.evidence import DigestRange, build_bundle, bundle_json, continuity
from vigil.planning.journal import (Head, Stored, Verdict, build_record, canonical, check_chain, envelope,
                                    plan_signing_key, record_key, sha256)
from vigil.planning.ownership import Owner

ARN = "arn:aws:kms:ca-central-1:222222222222:key/11111111-2222-3333-4444-555555555555"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
PRIVATE = ec.generate_private_key(ec.SECP256R1())
DER = PRIVATE.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed(record: dict, key: ec.EllipticCurvePrivateKey = PRIVATE) -> bytes:
    digest = hashlib.sha256(canonical(record)).digest()
    return envelope(record, ARN, key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))


def chain(verdicts: list[bool], step: timedelta = timedelta(minutes=5)) -> list[Stored]:
    stored, head = [], None
    for n, compliant in enumerate(verdicts):
        at = T0 + n * step
        record = build_record(head, at, "vigil", "FlowLogPolicy", "flows", 1, "Enforce", {"trafficType": "ALL"},
                              {"status": "True", "reason": "Reconciled"},
                              [Verdict("111111111111/ca-central-1", compliant, "InSync" if compliant else "Drifted")],
                              300)
        key = record_key("vigil-journal", "vigil", at, record["seq"])
        stored.append(Stored(key, signed(record)))
        head = Head(record["seq"], key, sha256(record))
    return stored


def public_key(arn: str) -> bytes:
    assert arn == ARN
    return DER


def test_a_chain_as_written_verifies():
    check = check_chain(chain([True] * 4), public_key)
    assert check.verified and [r["seq"] for r in check.records] == [0, 1, 2, 3] and check.keys == {ARN}


def test_keys_sort_by_time_then_sequence():
    assert record_key("vigil-journal", "ns", T0, 7) == "vigil-journal/ns/2025/03/01/000000000007.json"


def test_an_edited_record_is_refused_by_name():
    stored = chain([True] * 4)
    body = json.loads(stored[1].body)
    body["record"]["verdicts"][0]["compliant"] = False  # the edit, its stated hash left as it was
    stored[1] = Stored(stored[1].key, json.dumps(body).encode())
    problems = check_chain(stored, public_key).problems
    assert problems and all(p.key == stored[1].key and p.seq == 1 for p in problems)
    assert "changed after it was written" in str(problems[0])


def test_an_edit_with_its_hash_restated_fails_the_signature_and_the_next_link():
    stored = chain([True] * 3)
    body = json.loads(stored[1].body)
    body["record"]["verdicts"][0]["reason"] = "edited"
    body["sha256"] = sha256(body["record"])
    stored[1] = Stored(stored[1].key, json.dumps(body).encode())
    problems = check_chain(stored, public_key).problems
    assert {p.seq for p in problems} == {1}
    assert any("signature does not verify" in p.message for p in problems)
    assert any("record 2 holds another SHA-256" in p.message for p in problems)


def test_a_record_signed_by_another_key_is_refused():
    stored = chain([True] * 2)
    record = json.loads(stored[1].body)["record"]
    stored[1] = Stored(stored[1].key, signed(record, ec.generate_private_key(ec.SECP256R1())))
    assert [p.seq for p in check_chain(stored, public_key).problems] == [1]


def test_a_deleted_record_is_refused_naming_the_missing_sequence_number():
    stored = chain([True] * 4)
    gone = stored.pop(2)
    problems = check_chain(stored, public_key).problems
    assert len(problems) == 1 and problems[0].seq == 2 and problems[0].key == gone.key
    assert "record 2 between" in problems[0].message


def test_a_record_a_link_names_but_gone_is_refused():
    stored = chain([True] * 2)
    problems = check_chain([Stored(stored[0].key, None), stored[1]], public_key).problems
    assert problems[0].key == stored[0].key and "missing" in problems[0].message


def records(verdicts: list[bool], step: timedelta = timedelta(minutes=5)) -> list[dict]:
    return check_chain(chain(verdicts, step), public_key).records


def test_compliant_since_the_first_record_of_the_last_compliant_run():
    got = records([True, False, True, True])
    since, from_start = continuity([(r, r["verdicts"][0]) for r in got])
    assert (since, from_start) == (got[2]["time"], False)


def test_a_run_reaching_the_window_start_is_marked_so():
    got = records([True, True])
    assert continuity([(r, r["verdicts"][0]) for r in got]) == (got[0]["time"], True)


def test_a_gap_longer_than_two_resyncs_breaks_continuity():
    got = records([True, True, True], step=timedelta(minutes=20))
    assert continuity([(r, r["verdicts"][0]) for r in got]) == (got[2]["time"], False)


def test_not_compliant_at_the_last_record_has_no_since():
    got = records([True, False])
    assert continuity([(r, r["verdicts"][0]) for r in got]) == (None, False)


def bundle() -> dict:
    got = records([False, True, True])
    return build_bundle(got, T0, T0 + timedelta(hours=1), {"bucket": "b", "chain": "vigil-journal/vigil/",
                                                           "verified": True, "records": 3, "statement": "verified"},
                        {"trail": "org", "verified": True, "statement": "ok"},
                        [DigestRange("111111111111", "ca-central-1", "2025-03-01T11:00:00Z",
                                     "2025-03-01T13:00:00Z")], T0 + timedelta(hours=2))


def test_the_bundle_per_control_account_and_region():
    (row,) = bundle()["controls"]
    assert row["kind"] == "FlowLogPolicy" and row["account"] == "111111111111" and row["region"] == "ca-central-1"
    assert row["compliant"] and row["continuouslyCompliantSince"] == "2025-03-01T12:05:00Z"
    assert row["verifiedDigests"] == {"from": "2025-03-01T11:00:00Z", "to": "2025-03-01T13:00:00Z"}
    assert row["configured"]["spec"] == {"trafficType": "ALL"} and row["records"] == 3
    assert json.loads(bundle_json(bundle())) == bundle()


def test_the_html_escapes_and_carries_the_json_values():
    b = bundle()
    b["controls"][0]["name"] = "<script>alert(1)</script>"
    page = render(b)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'data-since="2025-03-01T12:05:00Z"' in page


def test_the_signing_key_is_created_once():
    owner = Owner("vigil", "LogArchive", "archive")
    (create,) = plan_signing_key("l", "222222222222", "ca-central-1", "alias/j", "o-abc", owner, exists=False)
    assert create.operation == "CreateSigningKeyWithAlias" and create.params["AliasName"] == "alias/j"
    assert "kms:GetPublicKey" in create.params["Policy"]
    assert plan_signing_key("l", "222222222222", "ca-central-1", "alias/j", "o-abc", owner, exists=True) == []


@pytest.mark.parametrize("count", [0, 1])
def test_the_first_record_links_to_nothing_and_the_next_to_it(count):
    stored = chain([True] * (count + 1))
    record = json.loads(stored[-1].body)["record"]
    assert (record["previous"] is None) == (count == 0)
