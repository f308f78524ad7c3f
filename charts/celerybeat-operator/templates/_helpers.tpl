{{/* Chart name, overridable. */}}
{{- define "celerybeat-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; the release name alone when it already contains the chart name. */}}
{{- define "celerybeat-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "celerybeat-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels on every object. */}}
{{- define "celerybeat-operator.labels" -}}
helm.sh/chart: {{ include "celerybeat-operator.chart" . }}
{{ include "celerybeat-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: celerybeat-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator pods; never change them in an upgrade (Deployment selectors are immutable). */}}
{{- define "celerybeat-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "celerybeat-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "celerybeat-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "celerybeat-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the chart creates for URLs given as values. */}}
{{- define "celerybeat-operator.connectionSecretName" -}}
{{- printf "%s-connection" (include "celerybeat-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* True when the chart must create the connection Secret (a URL given as a value, no existing Secret). */}}
{{- define "celerybeat-operator.createsConnectionSecret" -}}
{{- if or (and (not .Values.redis.existingSecret) .Values.redis.url) (and (not .Values.broker.existingSecret) .Values.broker.url) (and (not .Values.resultBackend.existingSecret) .Values.resultBackend.url) -}}
true
{{- end }}
{{- end }}

{{/* The image: pinned by digest when one is given, else by tag. */}}
{{- define "celerybeat-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The namespace of the leader-election Lease. */}}
{{- define "celerybeat-operator.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* Where the pod reads the connection URLs: each Secret key mounted as a file. */}}
{{- define "celerybeat-operator.connectionDir" -}}
/etc/celerybeat-operator/connection
{{- end }}

{{/* PromQL label matchers of this release's series, as a ServiceMonitor scrape labels them. */}}
{{- define "celerybeat-operator.metricsSelector" -}}
{{- if .Values.metrics.prometheusRule.selector }}
{{- .Values.metrics.prometheusRule.selector }}
{{- else }}
{{- printf "namespace=%q,service=%q" .Release.Namespace (printf "%s-metrics" (include "celerybeat-operator.fullname" .)) }}
{{- end }}
{{- end }}

{{/*
The operator's read-only rules for PeriodicTaskPolicies and the labels of Namespaces (src/kube/policy-reader.ts).
*/}}
{{- define "celerybeat-operator.policyReadRules" }}
  - apiGroups: ["celerybeat.io"]
    resources: ["periodictaskpolicies"]
    verbs: ["list"]
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["list"]
{{- end }}
