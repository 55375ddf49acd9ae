{{/* The chart's name, or nameOverride. */}}
{{- define "ssogate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: RELEASE-ssogate, or RELEASE when it holds the chart's name. */}}
{{- define "ssogate.fullname" -}}
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

{{- define "ssogate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "ssogate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ssogate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ssogate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ssogate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) }}
{{- end }}

{{/*
The environment variable of each secret a component can take (values
<component>.secrets.<name>). values.schema.json lists the same names.
*/}}
{{- define "ssogate.secretEnv" -}}
databaseURL: SSOGATE_DATABASE_URL
networkKey: SSOGATE_NETWORK_KEY
networkPreviousKeys: SSOGATE_NETWORK_PREVIOUS_KEYS
webhookSecrets: SSOGATE_WEBHOOK_SECRETS
adminToken: SSOGATE_ADMIN_TOKEN
authClientSecret: SSOGATE_AUTH_CLIENT_SECRET
authSessionKey: SSOGATE_AUTH_SESSION_KEY
authPreviousSessionKeys: SSOGATE_AUTH_PREVIOUS_SESSION_KEYS
profileSourceToken: SSOGATE_PROFILE_SOURCE_TOKEN
{{- end }}

{{/* env entries for a component's secrets that name an existingSecret. Call with (dict "secrets" .) */}}
{{- define "ssogate.secretEnvEntries" -}}
{{- $names := include "ssogate.secretEnv" . | fromYaml }}
{{- range $name, $ref := .secrets }}
{{- if $ref.existingSecret }}
- name: {{ get $names $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.existingSecret }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}
{{- end }}
