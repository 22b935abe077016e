package facekit

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with status and v as a JSON body (no body when v is
// nil), the way the vendors' REST APIs answer.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}
