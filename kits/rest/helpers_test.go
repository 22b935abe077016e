package rest_test

import (
	"encoding/json"
	"net/http"
)

func jsonBody(req *http.Request, v any) error {
	defer req.Body.Close()
	return json.NewDecoder(req.Body).Decode(v)
}
