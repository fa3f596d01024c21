-- Argo CD health for every vigil.dev kind. The single source: generate.py copies it into
-- argocd-cm-patch.yaml once per kind, since every kind reports status the same way.
--
-- Healthy     Ready=True, Compliant=True, and the operator has seen the current generation.
-- Progressing no status yet, a generation not yet observed, Reconciling=True, Ready Unknown, or
--             Ready=False for a reason that clears by itself (DependencyNotReady, Throttled, ...);
--             also Ready=True while Compliant is not yet known.
-- Degraded    whatever a human must act on: Stalled=True (InvalidSpec, AccessDenied, Conflict,
--             WeakeningHeld, ...), IntegrityVerified=False (the trail's logs or digests fail
--             verification: evidence may have been tampered with), Ready=False for any reason
--             not known to clear by itself, and Ready=True with Compliant=False, shown as
--             "<reason>: ..." ("Drifted: ...") so that drift found in Audit mode is seen, not
--             just recorded.
-- Why IntegrityVerified=False is Degraded, and stops nothing: see docs/gitops.md (the OrgTrail
-- sits in the last sync wave, so no other object waits on its health).
local WAITING_REASONS = {DependencyNotReady = true, Throttled = true, Reconciling = true}

local function find_condition(conditions, condition_type)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

-- The condition's message, or its reason when the operator left the message empty.
local function explain(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return condition.reason or ""
end

local function health(status, message)
  return {status = status, message = message}
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  return health("Progressing", "Waiting for the operator to report status")
end

local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  return health("Progressing", "Waiting for the operator to observe generation " .. tostring(generation))
end

local stalled = find_condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  return health("Degraded", explain(stalled))
end
local integrity = find_condition(status.conditions, "IntegrityVerified")
if integrity ~= nil and integrity.status == "False" then
  return health("Degraded", "IntegrityNotVerified: " .. explain(integrity))
end
local reconciling = find_condition(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return health("Progressing", explain(reconciling))
end

local ready = find_condition(status.conditions, "Ready")
if ready == nil or ready.status ~= "True" and ready.status ~= "False" then
  return health("Progressing", ready and explain(ready) or "Waiting for the Ready condition")
end
if ready.status == "False" then
  if WAITING_REASONS[ready.reason] then
    return health("Progressing", explain(ready))
  end
  return health("Degraded", explain(ready))
end

local compliant = find_condition(status.conditions, "Compliant")
if compliant == nil or compliant.status ~= "True" and compliant.status ~= "False" then
  return health("Progressing", compliant and explain(compliant) or "Waiting for the Compliant condition")
end
if compliant.status == "False" then
  -- Drift, or targets that could not be checked (an account out of reach): the reason says which.
  return health("Degraded", (compliant.reason or "NotCompliant") .. ": " .. explain(compliant))
end
return health("Healthy", explain(compliant))
