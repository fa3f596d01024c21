"""Event-driven dependents, the pure parts: what a reconcile reads of other objects
(``reconciler.dependency_state``: it moves when a reference turns Ready, when its outputs change,
or when what a control reads of its spec does once its reconcile has found that valid; not when
its status merely records another resync, nor for an edit nothing reads; ``ValidatedSpecs``, the
spec a control acts on meanwhile); the wake-ups of the reconcile loops
(``wakeups``: by namespace, released when a loop ends, a pause that ends on a wake-up, a stop or
its timeout, a reconcile under way left to finish when its loop stops); and when a pass of a loop
reconciles (``handlers._due``). The operator's use of them is tests/e2e/test_dependents.py."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import pytest

from vigil import handlers
from vigil.controls import reconciler
from vigil.controls.base import DependencyNotReady
from vigil.controls.reconciler import dependency_state, references
from vigil.wakeups import Wakeups, pause, unless_stopped
from vigil_sandbox.examples import example

NS = "baseline"
ARCHIVE_OUTPUTS = {"bucketArn": "arn:aws:s3:::acme-log-archive", "accountId": "222222222222",
                   "kmsKeyArn": "arn:aws:kms:ca-central-1:222222222222:key/1", "region": "ca-central-1"}


def ready(status: str = "True", reason: str = "Reconciled", generation: int = 1, **outputs: Any) -> dict[str, Any]:
    return {"observedGeneration": generation, "lastSyncTime": "2026-01-01T00:00:00Z", **outputs,
            "conditions": [{"type": "Ready", "status": status, "reason": reason, "message": "",
                            "observedGeneration": generation, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}


class Namespace:
    """A Lookup over one namespace's objects, as the operator's indexes hold them."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, kind: str, status: dict[str, Any] | None = None, generation: int = 1, **spec: Any) -> None:
        doc = example(kind, NS)
        self.objects[(kind, doc["metadata"]["name"])] = {"spec": {**doc["spec"], **spec}, "status": status or {},
                                                         "generation": generation, "uid": f"uid-{kind}"}

    def edit(self, kind: str, **spec: Any) -> None:
        """A spec edit, its reconcile not yet ended: a new generation, the status as it was."""
        found = self.objects[(kind, example(kind)["metadata"]["name"])]
        found["spec"] = {**found["spec"], **spec}
        found["generation"] += 1

    def reconciled(self, kind: str, **outputs: Any) -> None:
        """Its reconcile ended Ready at the generation it holds."""
        found = self.objects[(kind, example(kind)["metadata"]["name"])]
        found["status"] = ready(generation=found["generation"], **outputs)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.objects.get((kind, name))) if namespace == NS else None

    def secret(self, namespace: str, name: str, key: str) -> str:
        raise LookupError(name)

    def in_namespace(self, namespace: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, name, copy.deepcopy(body)) for (kind, name), body in self.objects.items()
                if namespace == NS and kind not in ("Organization", "Guardrails")]

    def state(self, kind: str) -> tuple[Any, ...]:
        return dependency_state(kind, NS, self.objects[(kind, example(kind)["metadata"]["name"])]["spec"], self)


@pytest.fixture
def ns(monkeypatch: pytest.MonkeyPatch) -> Namespace:
    monkeypatch.setattr(reconciler, "VALIDATED_SPECS", reconciler.ValidatedSpecs())  # a fresh operator's
    found = Namespace()
    found.put("Organization", ready())
    found.put("LogArchive", {})
    found.put("OrgTrail")
    return found


def test_a_reference_turning_ready_changes_what_its_dependents_read(ns: Namespace) -> None:
    before = ns.state("OrgTrail")
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    assert ns.state("OrgTrail") != before


def test_the_organization_turning_ready_changes_what_every_control_reads(ns: Namespace) -> None:
    ns.put("Organization", ready("False", "AWSError"))
    before = {kind: ns.state(kind) for kind in ("LogArchive", "OrgTrail")}
    ns.put("Organization", ready())
    assert all(ns.state(kind) != state for kind, state in before.items())


@pytest.mark.parametrize("change", [
    pytest.param({"kmsKeyArn": "arn:aws:kms:ca-central-1:222222222222:key/2"}, id="a new key"),
    pytest.param({"accountId": "999999999999"}, id="another account"),
    pytest.param({"conditions": ready("False", "Throttled")["conditions"]}, id="no longer Ready"),
])
def test_a_change_dependents_read_is_seen(ns: Namespace, change: dict[str, Any]) -> None:
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    before = ns.state("OrgTrail")
    ns.objects[("LogArchive", "central")]["status"].update(change)
    assert ns.state("OrgTrail") != before


@pytest.mark.parametrize(("kind", "edit"), [
    pytest.param("LogArchive", {"bucketName": "acme-log-archive-2"}, id="another bucket"),
    pytest.param("Organization", {"regions": {"home": "ca-central-1", "governed": ["ca-central-1"]}},
                 id="other regions"),
])
def test_an_edit_dependents_read_is_seen_once_its_reconcile_ends_ready(ns: Namespace, kind: str,
                                                                       edit: dict[str, Any]) -> None:
    """Not before: the reconcile may find the new spec invalid, and nothing may act on it then."""
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    before = ns.state("OrgTrail")
    ns.edit(kind, **edit)
    assert ns.state("OrgTrail") == before, "its reconcile under way"
    ns.reconciled(kind, **(ARCHIVE_OUTPUTS if kind == "LogArchive" else {}))
    assert ns.state("OrgTrail") != before


@pytest.mark.parametrize(("kind", "edit"), [
    pytest.param("LogArchive", {"retention": {"expireAfterDays": 3650, "transitionToGlacierAfterDays": 90}},
                 id="the archive's retention"),
    pytest.param("LogArchive", {"resyncInterval": "59m"}, id="the archive's resync period"),
    pytest.param("Organization", {"resyncInterval": "59m"}, id="the organization's resync period"),
])
def test_an_edit_dependents_do_not_read_wakes_none_of_them(ns: Namespace, kind: str, edit: dict[str, Any]) -> None:
    """A GitOps edit of every object's resync period, or of the archive's retention, reconciles the
    object edited, not once more every control of the organization."""
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    before = ns.state("OrgTrail")
    ns.edit(kind, **edit)
    assert ns.state("OrgTrail") == before
    ns.reconciled(kind, **(ARCHIVE_OUTPUTS if kind == "LogArchive" else {}))
    assert ns.state("OrgTrail") == before


def test_an_operator_started_during_a_references_reconcile_waits_for_it(ns: Namespace) -> None:
    """The spec its Ready describes is not known then: the dependents wait (the generation stands
    for what they read), and the new generation, once Ready, is a change, whatever was edited."""
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    ns.edit("LogArchive", resyncInterval="59m")
    before = ns.state("OrgTrail")
    with pytest.raises(DependencyNotReady, match="spec.logArchiveRef.name: LogArchive central is reconciling"):
        archive_bucket(ns)
    ns.reconciled("LogArchive", **ARCHIVE_OUTPUTS)
    assert ns.state("OrgTrail") != before
    assert archive_bucket(ns) == "acme-log-archive"


def test_dependents_act_on_the_spec_a_reference_last_found_valid(ns: Namespace) -> None:
    """While the LogArchive reconciles another bucket's name, a control reconciled for another
    reason still delivers to the bucket it last found valid; so an edit reverted before that
    reconcile ends has never reached a control, and waking none for the revert misses nothing."""
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    before = ns.state("OrgTrail")
    ns.edit("LogArchive", bucketName="someone-elses-bucket")
    assert archive_bucket(ns) == "acme-log-archive"
    ns.edit("LogArchive", bucketName="acme-log-archive")
    ns.reconciled("LogArchive", **ARCHIVE_OUTPUTS)
    assert ns.state("OrgTrail") == before


def test_a_deleted_reference_leaves_nothing_remembered(ns: Namespace) -> None:
    """A namesake made later must not be taken for it (delete_object forgets it)."""
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    assert archive_bucket(ns) == "acme-log-archive"
    reconciler.VALIDATED_SPECS.forget("LogArchive", NS, "central")
    ns.edit("LogArchive", bucketName="acme-log-archive-2")
    with pytest.raises(DependencyNotReady, match="is reconciling generation 2"):
        archive_bucket(ns)


def test_the_operators_index_carries_what_tells_a_spec_validated() -> None:
    meta = {"generation": 3, "uid": "u-1"}
    assert handlers._index("ns", "central", {"bucketName": "b"}, {}, meta) == {
        ("ns", "central"): {"spec": {"bucketName": "b"}, "status": {}, "generation": 3, "uid": "u-1"}}


def archive_bucket(ns: Namespace) -> str:
    """The bucket a control's resolve delivers to: the LogArchive's spec as ready_reference gives it."""
    return reconciler.ready_reference(ns, "LogArchive", NS, "central", "spec.logArchiveRef.name")["spec"]["bucketName"]


def test_another_resync_of_a_reference_is_not_a_change(ns: Namespace) -> None:
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    before = ns.state("OrgTrail")
    status = ns.objects[("LogArchive", "central")]["status"]
    status.update(lastSyncTime="2026-01-01T00:05:00Z", driftCorrections=3, targets={"total": 1})
    status["conditions"][0].update(message="again", lastTransitionTime="2026-01-01T00:05:00Z")
    assert ns.state("OrgTrail") == before


def test_a_reference_that_stays_not_ready_is_not_a_change(ns: Namespace) -> None:
    ns.put("LogArchive", ready("False", "DependencyNotReady"))
    before = ns.state("OrgTrail")
    ns.put("LogArchive", ready("False", "Throttled", generation=2))
    assert ns.state("OrgTrail") == before, "resolve stops at not Ready: nothing else of it is read"


def test_a_missing_reference_appearing_is_a_change(ns: Namespace) -> None:
    del ns.objects[("LogArchive", "central")]
    before = ns.state("OrgTrail")
    ns.put("LogArchive", {})
    assert ns.state("OrgTrail") != before


def test_guardduty_reads_the_log_archive_only_while_it_publishes_to_it(ns: Namespace) -> None:
    ns.put("GuardDutyOrg")  # the example: publishing off
    before = ns.state("GuardDutyOrg")
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    assert ns.state("GuardDutyOrg") == before
    ns.put("GuardDutyOrg", publishFindingsToLogArchive={"enabled": True, "logArchiveRef": {"name": "central"}})
    before = ns.state("GuardDutyOrg")
    ns.put("LogArchive", ready(**{**ARCHIVE_OUTPUTS, "kmsKeyArn": "arn:aws:kms:ca-central-1:222222222222:key/2"}))
    assert ns.state("GuardDutyOrg") != before


def test_guardrails_read_their_neighbours_specs_and_keys_not_their_readiness(ns: Namespace) -> None:
    ns.put("Guardrails")
    before = ns.state("Guardrails")
    ns.put("OrgTrail", ready())
    assert ns.state("Guardrails") == before, "a neighbour's readiness is not what Guardrails protects"
    ns.put("OrgTrail", ready(), trailName="another-trail")
    assert ns.state("Guardrails") != before
    before = ns.state("Guardrails")
    ns.put("LogArchive", ready(**ARCHIVE_OUTPUTS))
    assert ns.state("Guardrails") != before, "the archive's key is protected once it is known"
    before = ns.state("Guardrails")
    ns.put("FlowLogPolicy")
    assert ns.state("Guardrails") != before, "a new neighbour"


def test_a_neighbours_resync_period_is_not_what_guardrails_protect(ns: Namespace) -> None:
    """A GitOps edit of every object's resyncInterval must not make the Guardrails reconcile once
    per object edited."""
    ns.put("Guardrails")
    before = ns.state("Guardrails")
    ns.put("OrgTrail", resyncInterval="59m")
    assert ns.state("Guardrails") == before


def test_an_organization_or_an_invalid_spec_reads_no_other_object(ns: Namespace) -> None:
    assert ns.state("Organization") == ()
    assert dependency_state("OrgTrail", NS, {"organizationRef": {}}, ns) == ()


def test_what_an_object_names_holds_those_objects_deletion() -> None:
    """``references`` is what keeps an Organization or LogArchive from going before the objects
    whose deletion reads it (handlers._outlive_referrers)."""
    assert references("OrgTrail", example("OrgTrail", NS)["spec"]) == (("Organization", "acme"),
                                                                       ("LogArchive", "central"))
    guardduty = example("GuardDutyOrg", NS)["spec"]
    assert ("LogArchive", "central") in references("GuardDutyOrg", {
        **guardduty, "publishFindingsToLogArchive": {"enabled": True, "logArchiveRef": {"name": "central"}}})
    assert references("Guardrails", example("Guardrails", NS)["spec"]) == (("Organization", "acme"),)
    assert references("Organization", example("Organization", NS)["spec"]) == ()
    assert references("OrgTrail", {"organizationRef": {}}) == (), "an invalid spec's deletion reads nothing"


async def test_a_wake_up_sets_the_loops_of_its_namespace_only() -> None:
    wakeups = Wakeups()
    with wakeups.loop("a", ("OrgTrail", "t")) as trail, wakeups.loop("a", ("LogArchive", "l")) as archive, \
            wakeups.loop("b", ("OrgTrail", "t")) as other:
        wakeups.wake("a")
        assert trail.is_set() and archive.is_set() and not other.is_set()
    wakeups.wake("b")
    assert not other.is_set(), "a loop that ended is not woken"


async def test_a_loop_started_again_before_the_last_one_ended_keeps_its_wake_up() -> None:
    wakeups = Wakeups()
    first = wakeups.loop("a", ("OrgTrail", "t"))
    first.__enter__()
    with wakeups.loop("a", ("OrgTrail", "t")) as second:
        first.__exit__(None, None, None)
        wakeups.wake("a")
        assert second.is_set()


async def test_a_pause_ends_on_a_wake_up_a_stop_or_its_timeout() -> None:
    loop = asyncio.get_running_loop()
    wake, stop = asyncio.Event(), asyncio.Event()
    loop.call_soon(wake.set)
    await asyncio.wait_for(pause(wake, stop.wait(), 3600), timeout=10)
    wake.clear()
    loop.call_soon(stop.set)
    await asyncio.wait_for(pause(wake, stop.wait(), 3600), timeout=10)
    stop.clear()
    await asyncio.wait_for(pause(wake, stop.wait(), 0.01), timeout=10)
    assert len(asyncio.all_tasks()) == 1, "nothing left waiting"


async def test_a_stop_ends_the_wait_for_a_reconcile_but_not_the_reconcile() -> None:
    release, stop = asyncio.Event(), asyncio.Event()
    work = asyncio.create_task(release.wait())
    asyncio.get_running_loop().call_soon(stop.set)
    assert await asyncio.wait_for(unless_stopped(work, stop.wait()), timeout=10) is False
    assert not work.done(), "the reconcile goes on"
    release.set()
    await asyncio.wait_for(work, timeout=10)
    assert await unless_stopped(asyncio.create_task(asyncio.sleep(0)), asyncio.Event().wait()) is True


def test_a_pass_reconciles_when_what_it_reads_changed_and_else_when_a_period_is_up() -> None:
    spec, memo, now = {"resyncInterval": "5m"}, {}, time.monotonic()
    # The Organization Ready (generation 1), the LogArchive not Ready.
    version = (1, None, (("acme", ((1, (None,) * 4), None)), ("central", (None, False))))
    assert handlers._due(memo, version, spec, {}), "a first pass reconciles"
    memo["last"] = (version, now, "DependencyNotReady")
    assert not handlers._due(memo, version, spec, {})
    assert handlers._due(memo, (*version[:2], ()), spec, {}), "what it reads changed"
    assert handlers._due(memo, (2, *version[1:]), spec, {}), "a new generation"
    assert handlers._due(memo, (1, "spec.x=1", version[2]), spec, {}), "a new allowance"
    retry = handlers.SETTINGS.retry_seconds
    memo["last"] = (version, now - retry, "DependencyNotReady")
    assert handlers._due(memo, version, spec, {}), "a transient reason is retried"
    memo["last"] = (version, now - retry, "Reconciled")
    assert not handlers._due(memo, version, spec, {})
    memo["last"] = (version, now - 300, "Reconciled")
    assert handlers._due(memo, version, spec, {}), "the resync interval is up"
