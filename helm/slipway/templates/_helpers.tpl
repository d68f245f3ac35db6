{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "slipway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Release-qualified name; a release already named after the chart is not repeated.
*/}}
{{- define "slipway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "slipway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of one component's objects. Call with (dict "root" $ "component" "builder").
*/}}
{{- define "slipway.componentName" -}}
{{- printf "%s-%s" (include "slipway.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "builder").
*/}}
{{- define "slipway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slipway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Common labels of one component. Call with (dict "root" $ "component" "builder").
*/}}
{{- define "slipway.labels" -}}
helm.sh/chart: {{ include "slipway.chart" .root }}
{{ include "slipway.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: slipway
{{- end -}}

{{/*
Image reference of one service. Call with (dict "root" $ "svc" $svc).
*/}}
{{- define "slipway.image" -}}
{{- $tag := .svc.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .svc.image.repository (toString $tag) -}}
{{- end -}}

{{/*
Whether a service talks to the Docker engine. Call with (dict "root" $ "svc" $svc); renders "true" or "".
*/}}
{{- define "slipway.usesDocker" -}}
{{- if has .svc.name (list "builder" "tester" "publisher") -}}true
{{- else if and (eq .svc.name "deployer") (eq .root.Values.deployer.backend "docker") -}}true
{{- end -}}
{{- end -}}

{{/*
An environment variable read from a Secret key. Call with (dict "name" "X" "secret" "s" "key" "k").
*/}}
{{- define "slipway.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}
