"""
A Kubernetes API server emulator for the sandbox: kmock's `KubernetesEmulator` taught the object
semantics an operator relies on, served over plain HTTP to kopf, the `kubernetes` client and kubectl.

What it does as the real API server does:

* serves discovery, namespaces, events, secrets, leases, CRDs, and every CRD of a directory
  (``crds/`` by default) with its kind, names, scope, verbs and ``status`` subresource;
  CRDs created later through the API are served as soon as they are stored;
* sets ``uid``, ``creationTimestamp``, a monotonic ``resourceVersion`` on every write, and
  ``generation`` (1 at create, +1 when anything outside metadata and status changes);
  a write that changes nothing changes no version and sends no watch event;
* keeps ``.status`` apart: writes to ``…/status`` change only the status, writes to the main
  resource leave it alone;
* deletes in two phases with finalizers (``deletionTimestamp``, then gone once they are removed);
* JSON merge patch, JSON patch (with ``test``), and apply patch (as a merge that may create);
  strategic merge patch is refused for custom resources (HTTP 415) as the real server does,
  and is read as a merge patch for the built-in kinds;
* admission by the CRD schema (see `vigil.sandbox.admission`): unknown fields pruned and
  reported in ``Warning`` headers (or refused with ``fieldValidation=Strict``), defaults
  applied, invalid objects refused with HTTP 422 and the API server's Status;
* watches resumable from a ``resourceVersion`` (or HTTP 410 when too old), ``timeoutSeconds``,
  ``sendInitialEvents``, label and field selectors; lists with ``limit``/``continue``;
* server-side Table output with the CRDs' printer columns, so ``kubectl get`` shows them.

What it does not: authentication and RBAC, admission webhooks, CEL rules, version conversion
(each served version of a CRD is its own store), garbage collection by owner references
(deleting a CRD drops its objects at once, finalizers or not),
managed fields and real server-side apply, protobuf beyond the bodies of ``kubectl create
namespace|secret``, and OpenAPI beyond what kubectl needs to validate on the server and explain.

Run it with ``python -m vigil.sandbox.kube --port 6443 --kubeconfig PATH``, or in tests with
`start_in_thread` (a background thread with its own event loop) or `serving` (in a running loop).

The modules: `emulator` (the `ApiServerEmulator`: routing, reads, writes, storage), `served`
(what is served, from the built-ins and CRDs), `http_requests` (URLs, bodies, options), `objects`
(what is stored of a requested object), `patches`, `selection`, `watches`, `tables`,
`discovery` (API discovery and OpenAPI), `protobuf`, `errors` (the API server's Status
errors), `runner` (serving it, in a loop, a thread or a process).
"""

from .emulator import ApiServerEmulator
from .runner import RunningEmulator, main, serving, start_in_thread, write_kubeconfig

__all__ = ["ApiServerEmulator", "RunningEmulator", "main", "serving", "start_in_thread", "write_kubeconfig"]
