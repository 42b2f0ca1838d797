{{- define "cerase.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Names of namespaced objects: the release's, so two releases in one namespace do not collide. A
release whose name already contains the chart's name (e.g. concept-erasure-operator) is used as is,
which gives the names of manifests/. 63 characters: some names become label values.
*/}}
{{- define "cerase.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "cerase.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Names of cluster-scoped objects (ClusterRole, ClusterRoleBinding): releases of the same name in two
namespaces share the cluster scope, so the namespace is part of the name.
*/}}
{{- define "cerase.clusterName" -}}
{{- printf "%s-%s" (include "cerase.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{- define "cerase.labels" -}}
app.kubernetes.io/name: {{ include "cerase.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "cerase.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cerase.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
An image reference: repository:tag, or repository@digest when a digest pins it (the tag is then
only informative, and a digest with a tag is not accepted by every runtime).
Takes a dict: repository, tag, digest.
*/}}
{{- define "cerase.imageRef" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/*
A trainer image given as one reference (repository:tag, as the operator's own default is) with an
optional digest: the digest replaces the tag. Takes a dict: image, digest.
*/}}
{{- define "cerase.pinnedRef" -}}
{{- if .digest -}}
{{- $repository := regexReplaceAll ":[^:/]+$" (regexReplaceAll "@.*$" .image "") "" -}}
{{- printf "%s@%s" $repository .digest -}}
{{- else -}}
{{- .image -}}
{{- end -}}
{{- end -}}
