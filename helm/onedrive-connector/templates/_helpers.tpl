{{/* Names and labels, after the conventions of the prometheus-community charts. */}}
{{- define "onedrive-connector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "onedrive-connector.fullname" -}}
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

{{- define "onedrive-connector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "onedrive-connector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "onedrive-connector.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "onedrive-connector.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: onedrive-connector
{{- end }}

{{- define "onedrive-connector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "onedrive-connector.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "onedrive-connector.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where things are mounted in the container; the rendered config points at these paths. */}}
{{- define "onedrive-connector.paths" -}}
configDir: /etc/onedrive-connector
spool: /var/spool/onedrive-connector
tmp: /tmp
secrets: /var/run/secrets/onedrive-connector
{{- end }}

{{/*
The config file: `.Values.config` with the keys the chart owns laid over it (secret file paths, spool
directory, metrics port). The connector validates it at start (strict zod schema); the chart's tests run
`config check` on this output.
*/}}
{{- define "onedrive-connector.config" -}}
{{- $paths := include "onedrive-connector.paths" . | fromYaml }}
{{- $auth := .Values.secrets.auth }}
{{- $userAuth := .Values.config.auth | default dict }}
{{- if or (hasKey $userAuth "clientSecret") (hasKey $userAuth "certificate") }}
{{- fail "config.auth.clientSecret / config.auth.certificate are set by the chart from secrets.auth: remove them from config" }}
{{- end }}
{{- $authDir := printf "%s/auth" $paths.secrets }}
{{- $managedAuth := dict }}
{{- if eq $auth.type "clientSecret" }}
{{- $_ := set $managedAuth "clientSecret" (dict "file" (printf "%s/client-secret" $authDir)) }}
{{- else }}
{{- $_ := set $managedAuth "certificate" (dict "privateKey" (dict "file" (printf "%s/private-key.pem" $authDir)) "certificateFile" (printf "%s/certificate.pem" $authDir)) }}
{{- end }}
{{- $managed := dict
      "auth" $managedAuth
      "connector" (dict "spoolDirectory" $paths.spool)
      "metrics" (dict "enabled" true "host" "0.0.0.0" "port" .Values.metrics.port) }}
{{- /* The admin API's keys exist only in connectors that have it: written only when it is switched on. */}}
{{- if .Values.adminApi.enabled }}
{{- $adminDir := printf "%s/admin" $paths.secrets }}
{{- $_ := set $managed "admin" (dict
      "enabled" true "host" "0.0.0.0" "port" .Values.adminApi.port
      "token" (dict "file" (printf "%s/token" $adminDir))
      "stateSecret" (dict "file" (printf "%s/state-secret" $adminDir))) }}
{{- end }}
{{- $config := mergeOverwrite (deepCopy .Values.config) $managed }}
{{- toYaml $config }}
{{- end }}

{{/*
terminationGracePeriodSeconds: above the connector's shutdown deadline plus the longest a Kafka transaction
may stay open, so the kubelet never SIGKILLs a pod still finishing within its own deadlines. The defaults
mirror src/config/schema.ts (shutdownTimeoutSeconds 30, transactionTimeoutSeconds 60).
*/}}
{{- define "onedrive-connector.terminationGracePeriodSeconds" -}}
{{- $connector := .Values.config.connector | default dict }}
{{- $kafka := .Values.config.kafka | default dict }}
{{- $shutdown := ($connector.shutdownTimeoutSeconds | default 30) | int }}
{{- $transaction := ($kafka.transactionTimeoutSeconds | default 60) | int }}
{{- $needed := add $shutdown $transaction .Values.terminationGraceMarginSeconds }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- $needed }}
{{- else if lt (int .Values.terminationGracePeriodSeconds) (int (add $shutdown $transaction)) }}
{{- fail (printf "terminationGracePeriodSeconds %d is below connector.shutdownTimeoutSeconds + kafka.transactionTimeoutSeconds (%d): the kubelet would kill a pod still draining" (int .Values.terminationGracePeriodSeconds) (int (add $shutdown $transaction))) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
The Microsoft hosts the connector calls, per cloud; keep in step with src/config/clouds.ts (a test
compares them). Returns a space-separated, sorted list for the clouds of config.tenants and
networkPolicy.microsoft.clouds (commercial when both are empty), or the endpoint overrides' hosts.
*/}}
{{- define "onedrive-connector.microsoftHosts" -}}
{{- $clouds := dict
      "commercial" (list "login.microsoftonline.com" "manage.office.com")
      "gcc" (list "login.microsoftonline.com" "manage-gcc.office.com")
      "gcc-high" (list "login.microsoftonline.us" "manage.office365.us")
      "dod" (list "login.microsoftonline.us" "manage.protection.apps.mil") }}
{{- $hosts := list }}
{{- $endpoints := .Values.config.endpoints | default dict }}
{{- $tenantClouds := list }}
{{- range $tenant := .Values.config.tenants | default list }}{{- $tenantClouds = append $tenantClouds ($tenant.cloud | default "commercial") }}{{- end }}
{{- $tenantClouds = concat $tenantClouds .Values.networkPolicy.microsoft.clouds }}
{{- if not $tenantClouds }}{{- $tenantClouds = list "commercial" }}{{- end }}
{{- range $cloud := $tenantClouds }}
{{- if not (hasKey $clouds $cloud) }}
{{- fail (printf "unknown cloud %q (one of commercial, gcc, gcc-high, dod)" $cloud) }}
{{- end }}
{{- $cloudHosts := get $clouds $cloud }}
{{- if not $endpoints.loginBaseUrl }}{{- $hosts = append $hosts (index $cloudHosts 0) }}{{- end }}
{{- if not $endpoints.apiBaseUrl }}{{- $hosts = append $hosts (index $cloudHosts 1) }}{{- end }}
{{- end }}
{{- with $endpoints.loginBaseUrl }}{{- $hosts = append $hosts (urlParse .).hostname }}{{- end }}
{{- with $endpoints.apiBaseUrl }}{{- $hosts = append $hosts (urlParse .).hostname }}{{- end }}
{{- $hosts | uniq | sortAlpha | join " " }}
{{- end }}

{{/* The distinct broker ports of config.kafka.brokers (host:port), plus networkPolicy.kafka.extraPorts. */}}
{{- define "onedrive-connector.kafkaPorts" -}}
{{- $ports := list }}
{{- range $broker := .Values.config.kafka.brokers | default list }}
{{- $parts := splitList ":" $broker }}
{{- if lt (len $parts) 2 }}
{{- fail (printf "config.kafka.brokers: %q has no port (host:port)" $broker) }}
{{- end }}
{{- $ports = append $ports (last $parts | int) }}
{{- end }}
{{- range .Values.networkPolicy.kafka.extraPorts }}{{- $ports = append $ports (int .) }}{{- end }}
{{- $ports | uniq | toJson }}
{{- end }}
