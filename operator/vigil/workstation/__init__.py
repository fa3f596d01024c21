"""Vigil without a cluster: the operator's reconcilers run once, from manifests on disk.

`vigil audit`, `vigil plan` and `vigil apply` read the same manifests Argo CD would sync, resolve
references among them, and run the same controls the operator runs (controls.reconciler), so a
pull request can be previewed and an organization assessed before anything is installed.
"""
