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

{{/*
What the operator does in the namespaces it watches: watch ConceptErasures (patch: its finalizer)
and write their status, make and follow each one's Job, request ConfigMap, trainer
ServiceAccount/Role/RoleBinding, read the Job's pods and list their Events, record Events, suspend
through Kueue's Workloads. The same rules as manifests/rbac.yaml (HelmChartTest keeps them equal);
a ClusterRole in the cluster-wide mode, a Role per watched namespace in the namespaced mode.
*/}}
{{- define "cerase.rules" -}}
- apiGroups: ["concepterasure.io"]
  resources: ["concepterasures"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["concepterasure.io"]
  resources: ["concepterasures/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["configmaps", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch", "update"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "patch", "update"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "list", "create", "update", "patch"]
- apiGroups: ["kueue.x-k8s.io"]
  resources: ["workloads"]
  verbs: ["get", "list", "patch"]
{{- end -}}
