{{- define "cerase.name" -}}
concept-erasure-operator
{{- end -}}

{{- define "cerase.labels" -}}
app.kubernetes.io/name: {{ include "cerase.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "cerase.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cerase.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
