"""What moto spends per request, and once per process, on work whose result never changes: cut.

Measured on `vigil apply -f examples/` against the sandbox (docs/testing.md, "The sandbox's CPU"),
these were most of the sandbox's CPU outside moto's own domain logic and serializers. Each cut
answers exactly what moto answered; none is a gap (vigil_sandbox.gaps), since none changes what
a client sees.

- Which backend serves a host: moto lists its package directory (``os.listdir`` and an
  ``isdir`` per entry) and then tries some 300 URL patterns, twice per request. A host names a
  service and a region, so the answer is kept per host (``HostDispatcher``).
- Whether a response class implements an action: moto builds the list of every function of the
  class (``inspect.getmembers``) for each request to test one name. ``FunctionNames`` asks the
  class for that name alone, so the gaps' methods, added and removed at run time, still count.
- The botocore service of an error's moto package: moto creates a botocore session and lists
  every service on disk for each package it meets, and its error lookup tables, meant to be
  cached, are rebuilt for every error answered (a new cache per call). One table of service
  names, and one cache of lookup tables, for the process.
- A symmetric or HMAC KMS key: moto generates a 2,048-bit RSA key pair for it at CreateKey
  (some 50 ms of CPU), used only by Sign, Verify and GetPublicKey, which AWS refuses for such
  keys. Made on first use instead.
- The account of an access key, asked twice per request: moto looks for the key in every
  account's IAM backend of every partition, creating the backends it lacks on the way (seven per
  account): seeding 300 accounts made 1.15 million backend look-ups for 1,286 requests. The
  accounts of the keys moto issues are indexed as it issues them
  (``account_of_key``); a key found nowhere is the default account's, as moto has it.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import botocore.session
import moto.core.errors as moto_errors
import moto.core.responses as moto_responses
import moto.core.utils as moto_utils
import moto.iam.models as moto_iam
import moto.kms.models as moto_kms
from moto.core import DEFAULT_ACCOUNT_ID
from moto.kms.utils import KeySpec
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# KMS key specs moto backs with an RSA key pair it never needs (AWS signs with neither).
_UNSIGNING_KEY_SPECS = frozenset({"SYMMETRIC_DEFAULT", *KeySpec.hmac_key_specs()})


class HostDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host it has seen."""

    def __init__(self, create_app: Callable[..., Any]) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # Called under the dispatcher's lock. The hosts are bounded: moto's own, and one
        # "<service>.<region>.amazonaws.com" per service and region the clients use.
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class FunctionNames:
    """The names of a class's functions, as ``method_names_from_class`` lists them, for ``in``."""

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._cls, name, None))


class _KeyMadeOnUse:
    """The key pair moto would have generated for a KMS key, generated when first used."""

    def __init__(self, key_spec: str, generate: Callable[[str], Any]) -> None:
        self._key_spec, self._generate = key_spec, generate
        self._key: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle probing: not a use of the key
            raise AttributeError(name)
        with self._lock:
            if self._key is None:
                self._key = self._generate(self._key_spec)
        return getattr(self._key, name)


@functools.cache
def _service_names() -> dict[str, str]:
    """botocore's service names by moto's spelling of them (moto drops the hyphens)."""
    return {name.replace("-", ""): name for name in botocore.session.get_session().get_available_services()}


def _service_name_from_moto_package_name(package: str) -> str:
    return _service_names().get(package, package)


# Every access key moto issued: its account and partition. Kept by the only methods moto issues
# and deletes keys with (IAM's CreateAccessKey, STS's temporary keys, DeleteAccessKey).
_key_accounts: dict[str, tuple[str, str]] = {}


def account_of_key(access_key: str) -> str:
    """The account moto issued ``access_key`` in; the default account for a key it did not issue
    (or no longer holds: deleted, or reset away). As moto's ``get_account_id_from``."""
    found = _key_accounts.get(access_key)
    if found is not None:
        account, partition = found
        # Plain dict reads: moto's BackendDict takes a lock and creates what it lacks.
        backend = dict.get(dict.get(moto_iam.iam_backends, account) or {}, partition)
        if backend is not None and access_key in backend.access_keys:
            return account
        _key_accounts.pop(access_key, None)
    return DEFAULT_ACCOUNT_ID


def _index_existing_keys() -> None:
    for account, backends in list(dict.items(moto_iam.iam_backends)):
        for partition, backend in list(dict.items(backends)):
            for key in list(backend.access_keys):
                _key_accounts[key] = (account, partition)


def _indexing(issue: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(issue)
    def issued(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = issue(self, *args, **kwargs)
        _key_accounts[key.physical_resource_id] = (self.account_id, self.partition)
        return key

    return issued


def _unindexing(delete: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(delete)
    def deleted(self: Any, name: str) -> Any:
        delete(self, name)
        _key_accounts.pop(name, None)

    return deleted


_cut = False


def cut() -> None:
    """Replace moto's costly functions with the ones above, once per process (idempotent)."""
    global _cut
    if _cut:
        return
    moto_responses.method_names_from_class = FunctionNames
    moto_utils.service_name_from_moto_package_name = _service_name_from_moto_package_name
    factory = moto_errors.ErrorLookupFactory()  # its cache, kept for every error answered
    moto_errors.ErrorLookupFactory = lambda: factory  # type: ignore[assignment,misc,return-value]
    generate = moto_kms.generate_private_key

    def generate_on_use(key_spec: str) -> Any:
        return _KeyMadeOnUse(key_spec, generate) if key_spec in _UNSIGNING_KEY_SPECS else generate(key_spec)

    moto_kms.generate_private_key = generate_on_use
    backend = moto_iam.IAMBackend
    backend.create_access_key = _indexing(backend.create_access_key)  # type: ignore[method-assign]
    backend.create_temp_access_key = _indexing(backend.create_temp_access_key)  # type: ignore[method-assign]
    backend.delete_access_key_by_name = _unindexing(backend.delete_access_key_by_name)  # type: ignore[method-assign]
    _index_existing_keys()
    moto_iam.get_account_id_from = account_of_key
    _cut = True
