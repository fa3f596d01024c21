"""Systems Manager: the Session Manager preferences document."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..planning.ownership import Owner, created_by
from ..state.sessionlogging import PREFERENCES_DOCUMENT, SessionDocumentState, parse_content, preferences_of
from .errors import error_code, is_code, or_default
from .session import AwsAccess


def observe_session_document(access: AwsAccess, account_id: str, region: str) -> SessionDocumentState:
    """The default version, which is what Session Manager runs; one read."""
    ssm = access.client("ssm", account_id, region)
    document = or_default(lambda: ssm.get_document(Name=PREFERENCES_DOCUMENT, DocumentFormat="JSON"), None,
                          "InvalidDocument")
    if document is None:
        return SessionDocumentState(exists=False)
    content = parse_content(document.get("Content"))
    return SessionDocumentState(exists=True, document_type=document.get("DocumentType"),
                                version=document.get("DocumentVersion"), content=content,
                                preferences=preferences_of(content))


def update_session_preferences(client: Any, params: dict[str, Any]) -> None:
    """UpdateDocument, then make the new version the default: Session Manager runs the default.

    SSM refuses a version whose content some version already has (DuplicateDocumentContent),
    which is what putting back Vigil's preferences after someone's edit looks like: that
    version is then made the default again instead.
    """
    try:
        version = client.update_document(**params)["DocumentDescription"]["DocumentVersion"]
    except ClientError as exc:
        if not is_code(exc, "DuplicateDocumentContent"):
            raise
        version = _version_with_content(client, params["Name"], params["Content"])
        if version is None:
            raise
    client.update_document_default_version(Name=params["Name"], DocumentVersion=version)


def _version_with_content(client: Any, name: str, content: str) -> str | None:
    """The newest version holding ``content`` (by meaning), looked for from the latest down."""
    wanted = parse_content(content)
    latest = int(client.describe_document(Name=name)["Document"]["LatestVersion"])
    for number in range(latest, 0, -1):
        try:
            found = client.get_document(Name=name, DocumentVersion=str(number), DocumentFormat="JSON")
        except ClientError as exc:
            if error_code(exc) in ("InvalidDocument", "InvalidDocumentVersion"):  # a deleted version
                continue
            raise
        if parse_content(found.get("Content")) == wanted:
            return str(number)
    return None


def delete_owned_document(access: AwsAccess, account_id: str, region: str, owner: Owner) -> bool:
    """Delete the preferences document if ``owner`` created it (its tag says so); True if deleted.
    An adopted document was someone's before Vigil came and stays."""
    ssm = access.client("ssm", account_id, region)
    tags = or_default(lambda: ssm.list_tags_for_resource(ResourceType="Document", ResourceId=PREFERENCES_DOCUMENT)
                      ["TagList"], None, "InvalidResourceId", "InvalidDocument")
    if tags is None or not created_by({t["Key"]: t["Value"] for t in tags}, owner):
        return False
    or_default(lambda: ssm.delete_document(Name=PREFERENCES_DOCUMENT), None, "InvalidDocument")
    return True
