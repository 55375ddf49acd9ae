{{/*
One component (gateway or hub): ConfigMap, Deployment, Service,
PodDisruptionBudget, and when enabled Ingress, ServiceMonitor and the
migration Job. Call with
  (dict "root" $ "component" "gateway" "command" "serve" "v" .Values.gateway)
*/}}
{{- define "ssogate.component" -}}
{{- $root := .root }}
{{- $v := .v }}
{{- $name := printf "%s-%s" (include "ssogate.fullname" $root) .component | trunc 63 | trimSuffix "-" }}
{{- $postgres := $v.secrets.databaseURL.existingSecret }}
{{- if and (not $postgres) (gt (int $v.replicaCount) 1) }}
{{- fail (printf "%s.replicaCount is %d, but without %s.secrets.databaseURL each pod has its own SQLite database in an emptyDir: set a PostgreSQL URL Secret" .component (int $v.replicaCount) .component) }}
{{- end }}
{{- $config := mustMergeOverwrite (deepCopy $root.Values.config) (deepCopy $v.config) }}
{{- $selector := dict "app.kubernetes.io/name" (include "ssogate.name" $root) "app.kubernetes.io/instance" $root.Release.Name "app.kubernetes.io/component" .component }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
data:
  config.yaml: |
    {{- toYaml $config | nindent 4 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ $v.replicaCount }}
  {{- if not $postgres }}
  strategy:
    # One SQLite file per pod: never two pods at once.
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "ssogate.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ toYaml $config | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "ssogate.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: ssogate
          image: {{ include "ssogate.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .command | quote }}]
          env:
            - name: SSOGATE_CONFIG
              value: /etc/ssogate/config.yaml
            - name: SSOGATE_LISTEN
              value: "0.0.0.0:8080"
            - name: SSOGATE_DATA_DIR
              value: /data
            {{- with include "ssogate.secretEnvEntries" (dict "secrets" $v.secrets) | trim }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            failureThreshold: 2
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            failureThreshold: 3
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 60
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/ssogate
              readOnly: true
            - name: data
              mountPath: /data
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: {{ $name }}
        - name: data
          emptyDir: {}
        - name: tmp
          emptyDir: {}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- toYaml $selector | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if hasKey $v.podDisruptionBudget "minAvailable" }}
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
{{- end }}
{{- if $v.ingress.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  {{- with $v.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $v.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with $v.ingress.tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range $v.ingress.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
            pathType: {{ .pathType }}
            backend:
              service:
                name: {{ $name }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end }}
{{- if $v.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $name }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with $v.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
  endpoints:
    # httpbase serves /metrics on the same port as the API.
    - port: http
      path: /metrics
      interval: {{ $v.serviceMonitor.interval }}
      scrapeTimeout: {{ $v.serviceMonitor.scrapeTimeout }}
{{- end }}
{{- if and $root.Values.migration.enabled $postgres }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-migrate" $name | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "ssogate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}-migrate
  annotations:
    # Before any new pod starts; the chart's ConfigMap and ServiceAccount do
    # not exist yet at pre-install, so the Job needs only the database URL.
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $root.Values.migration.backoffLimit }}
  activeDeadlineSeconds: {{ $root.Values.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "ssogate.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}-migrate
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "ssogate.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["migrate"]
          env:
            - name: SSOGATE_LOG_FORMAT
              value: {{ $config.log_format | default "json" | quote }}
            - name: SSOGATE_DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ $v.secrets.databaseURL.existingSecret }}
                  key: {{ $v.secrets.databaseURL.key }}
          resources:
            {{- toYaml $root.Values.migration.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
{{- end }}
{{- end }}
