"""The corpus of invalid manifests (tests/invalid/) against the real operator and a fresh AWS
sandbox, the way issue 13 counts: with the examples' Organization and LogArchive Ready and in
steady state, every manifest of the corpus is applied; each one admission must refuse is refused
with a 422 naming its field; each one left to the operator is `Ready=False` with reason
InvalidSpec (DependencyNotReady for a reference that may yet appear) naming its field; and the
sandbox's call record shows no AWS write for any of them, a few operator retries later.

The API server's half alone is tests/kube/test_invalid_corpus.py; the operator's checks alone,
tests/unit/test_invalid_corpus.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vigil_sandbox.invalid_corpus import ADMISSION, OPERATOR, CorpusRun, apply_corpus, load
from vigil_sandbox.stack import Stack, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NAMESPACE = "baseline"
CORPUS = load()


@pytest.fixture(scope="module")
def run(stack: Stack, manifest) -> Iterator[CorpusRun]:
    for kind in ("Organization", "LogArchive"):
        stack.apply(manifest(kind, NAMESPACE))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central")):
        stack.wait(kind, NAMESPACE, name, is_ready_and_compliant, timeout=90, what="Ready and Compliant")
    yield apply_corpus(stack, CORPUS, NAMESPACE, timeout=120)


def test_the_whole_corpus_is_applied(run: CorpusRun):
    assert len(run.verdicts) == len(CORPUS) >= 150


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.at == ADMISSION], ids=str)
def test_refused_at_admission_naming_the_field(run: CorpusRun, entry):
    verdict = next(v for v in run.verdicts if v.entry is entry)
    assert verdict.refused_at == ADMISSION, (verdict.reason, verdict.message)
    assert entry.names_field(verdict.message), verdict.message


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.at == OPERATOR], ids=str)
def test_refused_by_the_operator_naming_the_field(run: CorpusRun, entry):
    verdict = next(v for v in run.verdicts if v.entry is entry)
    assert verdict.refused_at == OPERATOR and verdict.reason == entry.reason, (verdict.reason, verdict.message)
    assert entry.names_field(verdict.message), verdict.message


def test_no_aws_write_for_any_of_them(run: CorpusRun):
    assert [f"{c.account} {c.service}:{c.operation} {c.region}" for c in run.writes] == []
