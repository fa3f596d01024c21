{{/*
Labels of every object: deploy/'s own two, and Helm's (which release, which chart). The pod
template and the selectors keep deploy/'s labels only, so a Deployment applied from deploy/ and
one from the chart select the same pods.
*/}}
{{- define "vigil.labels" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/part-of: vigil
{{ include "vigil.helmLabels" . }}
{{- end }}

{{- define "vigil.helmLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/component: operator
{{- end }}

{{- define "vigil.image" -}}
{{- with .Values.image -}}
{{- if .digest -}}
{{ .repository }}@{{ .digest }}
{{- else -}}
{{ .repository }}:{{ .tag | default $.Chart.AppVersion }}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
The documents of a file under files/, which `vigil crds` writes (the CRDs, the weakening policy) or
tests/helm keeps equal to deploy/monitoring/ (the alerts). The chart writes each document's
apiVersion, kind and metadata (the file's, plus Helm's labels and what the caller passes), and
copies the rest (spec, rules...) as the file has it: its CEL and PromQL reach the reader and the
cluster as written, block scalars and {{ $labels }} included.
  include "vigil.documents" (dict "root" $ "path" "files/x.yaml" ["labels" dict] ["annotations" dict] ["namespace" ns])
*/}}
{{- define "vigil.documents" -}}
{{- $text := .root.Files.Get .path }}
{{- if not $text }}
{{- fail (printf "the chart lacks %s: `vigil crds` writes files/crds/ and files/weakening-policy.yaml; files/monitoring/ is a copy of deploy/monitoring/" .path) }}
{{- end }}
{{- range $part := regexSplit "(?m)^---[ \t]*$" $text -1 }}
{{- $doc := fromYaml $part }}
{{- if hasKey $doc "Error" }}
{{- fail (printf "%s: %s" $.path (get $doc "Error")) }}
{{- end }}
{{- if $doc }}
{{- $meta := $doc.metadata }}
{{- $_ := set $meta "labels" (merge (dict) ($.labels | default dict) (include "vigil.helmLabels" $.root | fromYaml) ($meta.labels | default dict)) }}
{{- with $.annotations }}
{{- $_ := set $meta "annotations" (merge (dict) . ($meta.annotations | default dict)) }}
{{- end }}
{{- with $.namespace }}
{{- $_ := set $meta "namespace" . }}
{{- end }}
---
apiVersion: {{ $doc.apiVersion }}
kind: {{ $doc.kind }}
metadata:
  {{- toYaml $meta | nindent 2 }}
{{- /* what follows metadata: everything after the head (comments, apiVersion, kind, metadata and its indented lines) */}}
{{ regexReplaceAll "(?ms)\\A.*?^metadata:\\n(?:[ ]+[^\\n]*\\n|\\n)*" $part "" | trim }}
{{- end }}
{{- end }}
{{- end }}
