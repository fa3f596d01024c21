"""DeleteObjects as S3 authorizes it: each object on its own. An object the organization's policies
deny comes back in the result's Errors as AccessDenied and stays; the others are deleted (moto does
the same per key for a bucket policy's Deny, in ``_bucket_response_delete_keys``).

The sandbox answers such a request by handing moto a Delete document without the denied objects,
then adding their errors to moto's DeleteResult; or, when every object is denied, answering the
DeleteResult itself.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree
from xml.sax.saxutils import escape

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# An <Object> element of a Delete document. Keys are XML-escaped, so none holds "</Object>".
_OBJECT = re.compile(rb"<Object>.*?</Object>", re.DOTALL)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def entries(body: bytes) -> list[tuple[str, str | None]]:
    """(key, versionId or None) of each object of a Delete document, in its order."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []  # moto answers MalformedXML
    found = []
    for element in root:
        if _local(element.tag) != "Object":
            continue
        fields = {_local(child.tag): child.text or "" for child in element}
        found.append((fields.get("Key", ""), fields.get("VersionId")))
    return found


def keeping(body: bytes, kept: set[int]) -> bytes:
    """The Delete document with only the objects at the indexes ``kept``."""
    objects = list(_OBJECT.finditer(body))
    parts, position = [], 0
    for index, match in enumerate(objects):
        parts.append(body[position:match.start()])
        if index in kept:
            parts.append(match.group(0))
        position = match.end()
    parts.append(body[position:])
    return b"".join(parts)


def _errors(denied: list[tuple[str, str | None, str]]) -> bytes:
    return "".join(
        f"<Error><Key>{escape(key)}</Key>" + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
        + f"<Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
        for key, version, message in denied
    ).encode()


def with_errors(result: bytes | None, denied: list[tuple[str, str | None, str]]) -> bytes:
    """moto's DeleteResult with the denied objects' errors added, or, for None, a DeleteResult of
    those errors alone. ``denied``: (key, versionId, message)."""
    if result is None:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{S3_NAMESPACE}">'.encode()
                + _errors(denied) + b"</DeleteResult>")
    end = result.rfind(b"</DeleteResult>")
    if end < 0:
        return result  # not a DeleteResult (moto refused the request): its answer stands
    return result[:end] + _errors(denied) + result[end:]
