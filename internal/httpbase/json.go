// Package httpbase is the HTTP base shared by the gateway and the hub: JSON
// answers and errors (Error, ErrorWriter), the routes domains mount on
// (Routes, PathValue), the CORS policy (CORS), request ids, access logs,
// panic recovery, health and readiness probes, Prometheus metrics and
// graceful shutdown. It is the one package that knows the router
// underneath is gorilla/mux.
package httpbase

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is the JSON shape of every error answer:
// {"error":{"code":"…","message":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody. Code is a stable snake_case
// identifier; Message is for people and never holds internal error text.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteError writes the JSON error body with status.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}
