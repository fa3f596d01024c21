"""`make demo`: the real operator reconciling examples/ on the embedded stand-ins.

Starts the AWS sandbox, a Kubernetes control plane (etcd + kube-apiserver) and `vigil run`; applies examples/; waits for
every object to be Ready and Compliant; prints the status table and the AWS evidence; then changes
AWS behind Vigil's back and shows the correction. Stops everything at the end.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any


from .examples import documents
from .stack import PLURALS, ROOT, Stack, condition, is_ready_and_compliant

# The examples resync every 5 minutes, as a real baseline would; the demo cannot wait that long.
DEMO_RESYNC = "5s"


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text} " + "=" * max(0, 76 - len(text)))


def load_examples() -> list[dict[str, Any]]:
    docs = documents()
    for doc in docs:
        if doc.get("apiVersion", "").startswith("vigil.dev/"):
            doc["spec"]["resyncInterval"] = DEMO_RESYNC
        if doc.get("kind") == "OrgTrail":
            # Verify the last 6 hours every few seconds: the demo's digest chain starts 4 hours ago.
            doc["spec"]["integrity"] = {"verify": True, "lookback": "6h", "interval": DEMO_RESYNC}
    # As Argo CD would: by sync wave (the Namespace, then the Organization, the LogArchive, the controls).
    return sorted(docs, key=lambda d: int(d["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0)))


def show_table(stack: Stack) -> None:
    assert stack.controlplane is not None
    say("$ kubectl get vigil -A")
    say(stack.controlplane.kubectl("get", "vigil", "-A").stdout.rstrip())


def show_evidence(stack: Stack, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    archive = next(o for (k, _, _), o in objects.items() if k == "LogArchive")
    bucket, log_account = archive["spec"]["bucketName"], archive["status"]["accountId"]
    s3 = stack.aws("s3", log_account)
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    kms = stack.aws("kms", log_account)
    say(f"LogArchive bucket s3://{bucket} in account {log_account}:")
    say(f"  default encryption   {encryption['ApplyServerSideEncryptionByDefault']['SSEAlgorithm']} with "
        f"{encryption['ApplyServerSideEncryptionByDefault']['KMSMasterKeyID']}")
    say(f"  key rotation         {kms.get_key_rotation_status(KeyId=archive['status']['kmsKeyArn'])['KeyRotationEnabled']}")
    say(f"  versioning           {s3.get_bucket_versioning(Bucket=bucket).get('Status')}")
    say(f"  public access block  {', '.join(k for k, v in pab.items() if v)}")
    say(f"  bucket policy        {', '.join(s['Sid'] for s in policy['Statement'])}")
    say(f"  object lock          {lock['ObjectLockEnabled']}, {lock['Rule']['DefaultRetention']}")

    trail = next(o for (k, _, _), o in objects.items() if k == "OrgTrail")
    ct = stack.aws("cloudtrail")
    name = trail["spec"]["trailName"]
    described = ct.describe_trails(trailNameList=[name])["trailList"][0]
    status = ct.get_trail_status(Name=name)
    say(f"OrgTrail {described['TrailARN']}:")
    for label, key in (("organization trail", "IsOrganizationTrail"), ("multi-region", "IsMultiRegionTrail"),
                       ("log file validation", "LogFileValidationEnabled")):
        say(f"  {label:<20} {described.get(key)}")
    say(f"  {'logging':<20} {status['IsLogging']}")
    say(f"  {'delivers to':<20} s3://{described['S3BucketName']}/{described.get('S3KeyPrefix', '')}")
    say(f"  {'encrypted with':<20} {described.get('KmsKeyId')}")


def show_controls(stack: Stack, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Evidence for the organization-wide controls, read from AWS in the accounts they govern."""
    org = stack.organization
    regions, security = org["regions"], org["security"]
    by_kind = {k: o for (k, _, _), o in objects.items()}
    if "FlowLogPolicy" in by_kind:
        policy = by_kind["FlowLogPolicy"]
        account = org["shared_network"]
        covered = total = 0
        for region in regions:
            ec2 = stack.aws("ec2", account, region)
            vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
            logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": vpcs}])["FlowLogs"] if vpcs else []
            ours = {f["ResourceId"] for f in logs if f.get("TrafficType") == policy["spec"].get("trafficType", "ALL")
                    and f.get("LogDestinationType") == "s3"
                    and f.get("LogDestination", "").startswith(by_kind["LogArchive"]["status"]["bucketArn"])}
            covered, total = covered + len(ours & set(vpcs)), total + len(vpcs)
        say(f"FlowLogPolicy: {covered}/{total} VPCs of the shared-network account {account} log ALL traffic "
            f"to the LogArchive bucket")
    if "GuardDutyOrg" in by_kind:
        for region in regions:
            admins = stack.aws("guardduty", org["management"], region).list_organization_admin_accounts()
            gd = stack.aws("guardduty", security, region)
            detector = gd.list_detectors()["DetectorIds"][0]
            auto = gd.describe_organization_configuration(DetectorId=detector).get("AutoEnableOrganizationMembers")
            members = gd.list_members(DetectorId=detector, OnlyAssociated="true")["Members"]
            enabled = sum(1 for m in members if m.get("RelationshipStatus") == "Enabled")
            say(f"GuardDutyOrg {region}: admin {[a['AdminAccountId'] for a in admins['AdminAccounts']]}, "
                f"detector {gd.get_detector(DetectorId=detector)['Status']}, auto-enable {auto}, "
                f"{enabled} members enabled")
    if "ConfigBaseline" in by_kind:
        recording = total = 0
        for account in [org["management"], org["log_archive"], security, org["shared_network"], *org["workloads"]]:
            for region in regions:
                statuses = stack.aws("config", account, region).describe_configuration_recorder_status()
                total += 1
                recording += any(s.get("recording") for s in statuses["ConfigurationRecordersStatus"])
        aggregators = stack.aws("config", security, regions[0]).describe_configuration_aggregators()
        compliance = by_kind["ConfigBaseline"]["status"].get("compliance", {})
        say(f"ConfigBaseline: recorders recording in {recording}/{total} account-regions; aggregator "
            f"{[a['ConfigurationAggregatorName'] for a in aggregators['ConfigurationAggregators']]} in {security}; "
            f"compliance {json.dumps(compliance)}")
    for kind in ("LogSubscriptionPolicy", "SecurityHubBaseline", "SessionLogging"):
        if kind in by_kind:
            status = by_kind[kind]["status"]
            extra = f", findings {json.dumps(status['findings'])}" if "findings" in status else ""
            say(f"{kind}: {status['targets']['summary']} targets compliant{extra}")


def show_integrity(stack: Stack, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """A signed digest chain in the LogArchive bucket verifies; one tampered log file is found."""
    from datetime import datetime, timedelta, timezone

    from .digests import ChainWriter, ClientStore, Signer, sandbox_layout

    (_, ns, name), trail = next((k, o) for k, o in objects.items() if k[0] == "OrgTrail")
    archive = next(o for (k, _, _), o in objects.items() if k == "LogArchive")
    layout = sandbox_layout(archive["spec"]["bucketName"], stack.organization["organization_id"],
                            stack.organization["regions"][0], trail["spec"]["s3KeyPrefix"])
    writer = ChainWriter(ClientStore(stack.aws("s3", archive["status"]["accountId"])), layout, Signer.from_seed(),
                         logs_per_hour=1)
    accounts = (stack.organization["management"], *stack.organization["workloads"][:1])
    start = datetime.now(timezone.utc) - timedelta(hours=4)
    keys = writer.write_trail(accounts, stack.organization["regions"], start, 3)
    say(f"  wrote {sum(map(len, keys.values()))} signed digests and their log files to s3://{layout.bucket}/"
        f"{layout.account_root('<account>')} (the sandbox's CloudTrail key)")
    fine = stack.wait("OrgTrail", ns, name, lambda o: condition(o, "IntegrityVerified").get("status") == "True",
                      timeout=60, what="IntegrityVerified=True")
    say(f"  IntegrityVerified=True: {condition(fine, 'IntegrityVerified')['message']}")
    say(f"  status.integrity: {json.dumps(fine['status']['integrity'])}")
    log = writer.log_keys(next(iter(keys.values()))[1])[0]
    writer.flip_log_byte(log)
    tampered = time.monotonic()
    say(f"  someone edits one event in s3://{layout.bucket}/{log}")
    found = stack.wait("OrgTrail", ns, name, lambda o: condition(o, "IntegrityVerified").get("status") == "False",
                       timeout=60, what="IntegrityVerified=False")
    say(f"  IntegrityVerified=False after {time.monotonic() - tampered:.1f}s: "
        f"{condition(found, 'IntegrityVerified')['message']}")
    for event in stack.events(ns, name):
        if event["reason"] == "LogFileModified":
            say(f"    Event {event['type']} {event['reason']}: {event['message']}")


def show_guard(stack: Stack, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """A one-day retention lands in Git. Without the admission policy, the operator holds it until an
    allowance names exactly that change; with deploy/'s policy, the API server refuses it outright."""
    (_, ns, name), archive = next((k, o) for k, o in objects.items() if k[0] == "LogArchive")
    s3 = stack.aws("s3", archive["status"]["accountId"])
    bucket = archive["spec"]["bucketName"]
    weaker = {"retention": {"expireAfterDays": 1, "transitionToGlacierAfterDays": None}}

    def expiry() -> Any:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        return next((r.get("Expiration", {}).get("Days") for r in rules if r["ID"] == "vigil-retention"), None)

    say("  In the operator (a cluster without deploy/weakening-policy.yaml):")
    say(f"  spec.retention.expireAfterDays: {archive['spec']['retention']['expireAfterDays']} -> 1")
    stack.patch_spec("LogArchive", ns, name, weaker)
    held = stack.wait("LogArchive", ns, name, lambda o: condition(o, "Ready").get("reason") == "WeakeningHeld",
                      timeout=60, what="WeakeningHeld")
    say(f"  Ready=False WeakeningHeld: {condition(held, 'Ready')['message']}")
    say(f"  the bucket still expires objects after {expiry()} days")
    stack.patch_spec("LogArchive", ns, name, {"retention": archive["spec"]["retention"]})
    stack.wait("LogArchive", ns, name, lambda o: o["status"].get("observedGeneration") == o["metadata"]["generation"]
               and is_ready_and_compliant(o), timeout=60, what="back to the example")
    say("  the edit reverted: Ready and Compliant again, nothing was ever written")

    say("  At admission (deploy/weakening-policy.yaml applied):")
    refused = stack.enforce_weakening_policy(lambda: stack.patch_spec("LogArchive", ns, name, weaker, dry_run=True))
    say(f"  $ kubectl patch logarchive {name} -n {ns} ... expireAfterDays: 1")
    say(f"  refused by the API server: {refused}")
    say(f"  the object keeps expireAfterDays {stack.get('LogArchive', ns, name)['spec']['retention']['expireAfterDays']}")


def show_guardrails(stack: Stack, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """What the SCPs and RCPs deny, proven by calls the sandbox evaluates against them: a member
    account's principal and Vigil's own role are refused StopLogging; archive deletions too."""
    from botocore.exceptions import ClientError

    (_, ns, name), _ = next((k, o) for k, o in objects.items() if k[0] == "Guardrails")
    guard = stack.wait("Guardrails", ns, name, lambda o: all(p["attachedTo"] for p in o["status"]["policies"]),
                       timeout=60, what="the policies' attachments in status")
    for policy in guard["status"]["policies"]:
        say(f"  {policy['type']} {policy['name']}: {policy['characters']} characters, attached to "
            f"{', '.join(policy['attachedTo'])}")
    trail = next(o for (k, _, _), o in objects.items() if k == "OrgTrail")["status"]["trailArn"]
    archive = next(o for (k, _, _), o in objects.items() if k == "LogArchive")
    workload, archive_account = stack.organization["workloads"][0], archive["status"]["accountId"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": f"arn:aws:iam::{stack.organization['management']}:root"}}]})
    stack.aws("iam", workload).create_role(RoleName="Developer", AssumeRolePolicyDocument=trust)
    attempts = [
        ("a developer in " + workload, "StopLogging on the organization trail",
         lambda: stack.aws("cloudtrail", workload, role="Developer").stop_logging(Name=trail)),
        ("Vigil's own role in " + workload, "StopLogging on the organization trail",
         lambda: stack.aws("cloudtrail", workload).stop_logging(Name=trail)),
        ("Vigil's own role in " + archive_account, "DeleteObject in the archive",
         lambda: stack.aws("s3", archive_account).delete_object(Bucket=archive["spec"]["bucketName"],
                                                                 Key="cloudtrail/any.json.gz")),
    ]
    for who, what, call in attempts:
        try:
            call()
            say(f"  {who}: {what} ALLOWED (unexpected)")
        except ClientError as exc:
            say(f"  {who}: {what} -> {exc.response['Error']['Code']}: {exc.response['Error']['Message']}")
    say(f"  trail still logging: {stack.aws('cloudtrail').get_trail_status(Name=trail)['IsLogging']}")


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def main() -> int:
    workdir = ROOT / ".demo"
    shutil.rmtree(workdir, ignore_errors=True)
    started = time.monotonic()
    heading("Starting the AWS sandbox, a Kubernetes control plane (etcd + kube-apiserver) and the operator")
    with Stack(workdir, namespaces=("baseline",)) as stack:
        org = stack.organization
        say(f"AWS sandbox        {stack.aws_endpoint}  (organization {org['organization_id']}, management "
            f"{org['management']}, log archive {org['log_archive']}, {len(org['workloads'])} workload accounts)")
        plane = stack.controlplane
        assert plane is not None
        say(f"Kubernetes API     {plane.url}  (kube-apiserver + etcd, ready in {plane.started_in:.1f}s; "
            f"KUBECONFIG={stack.kubeconfig})")
        say(f"Operator           vigil run --standalone --all-namespaces  (pid {stack.operator_pid}, as "
            f"ServiceAccount vigil-system/vigil with deploy/rbac.yaml; metrics and the posture report at {stack.metrics_url}/metrics and /report, for a token RBAC lets "
            f"get them: curl -H 'Authorization: Bearer <token>', docs/report.md)")

        heading(f"Applying examples/ (resyncInterval shortened to {DEMO_RESYNC} for the demo)")
        docs = load_examples()
        for doc in docs:
            stack.apply(doc)
            say(f"  {doc['kind'].lower()}/{doc['metadata']['name']} applied")
        keys = [(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs
                if d["kind"] in PLURALS]
        objects = {}
        for key in keys:
            objects[key] = stack.wait(*key, is_ready_and_compliant, timeout=120, what="Ready and Compliant")
        say(f"  all {len(keys)} objects Ready and Compliant after {time.monotonic() - started:.1f}s")

        heading("Status")
        show_table(stack)
        heading("AWS evidence")
        show_evidence(stack, objects)
        show_controls(stack, objects)

        heading("Drift: someone stops the trail and suspends the bucket's versioning")
        archive = next(o for (k, _, _), o in objects.items() if k == "LogArchive")
        trail = next(o for (k, _, _), o in objects.items() if k == "OrgTrail")
        name, bucket = trail["spec"]["trailName"], archive["spec"]["bucketName"]
        stack.aws("cloudtrail").stop_logging(Name=name)
        stack.aws("s3", archive["status"]["accountId"]).put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        drifted = time.monotonic()
        for kind, ns, obj_name in [k for k in keys if k[0] in ("OrgTrail", "LogArchive")]:
            before = objects[(kind, ns, obj_name)]["status"].get("driftCorrections", 0)
            fixed = stack.wait(kind, ns, obj_name, lambda o: o["status"].get("driftCorrections", 0) > before,
                               timeout=60, what="drift corrected")
            say(f"  {kind}/{obj_name}: corrected after {time.monotonic() - drifted:.1f}s, driftCorrections="
                f"{fixed['status']['driftCorrections']}, Compliant={condition(fixed, 'Compliant').get('status')}")
            for event in stack.events(ns, obj_name):
                if event["reason"] == "DriftCorrected":
                    say(f"    Event {event['type']} {event['reason']}: {event['message']}")
        say(f"  trail logging again: {stack.aws('cloudtrail').get_trail_status(Name=name)['IsLogging']}; "
            f"versioning: {stack.aws('s3', archive['status']['accountId']).get_bucket_versioning(Bucket=bucket)['Status']}")

        heading("Guard: a weakening edit is held, or refused at admission, until an allowance names it")
        show_guard(stack, objects)

        heading("Guardrails: what SCPs and RCPs deny, even to Vigil's own role")
        show_guardrails(stack, objects)

        heading("Integrity: CloudTrail digests verified, then a log file tampered with")
        show_integrity(stack, objects)

        heading("Operator")
        rss = rss_mib(stack.operator_pid)
        if rss is not None:
            say(f"  resident memory with the examples applied: {rss:.1f} MiB")
        say(f"  logs in {workdir}/operator.log")
    heading(f"Done in {time.monotonic() - started:.1f}s; everything stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
