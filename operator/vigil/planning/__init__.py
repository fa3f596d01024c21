"""Pure planners: desired state + observed state -> actions. No boto3, no kopf, no clock.

Every planner returns a list of `Action`s: the exact AWS calls Enforce would make, with the
field-level changes that justify each, so the same plan drives `apply`, Audit's drift report and
`vigil plan`'s diff.
"""
