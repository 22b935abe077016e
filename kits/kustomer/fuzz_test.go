package kustomer_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/kustomer"
)

// FuzzWebhook feeds any signed body to the webhook handler: it never
// panics, and answers 200 (taken or not a chat's) or 400 (not an event).
func FuzzWebhook(f *testing.F) {
	for _, seed := range []string{
		string(envelope("kustomer.message.create", map[string]any{"type": "chat_message", "id": "m1", "attributes": map[string]any{"direction": "out"},
			"relationships": map[string]any{"conversation": map[string]any{"data": map[string]any{"type": "conversation", "id": convID}}}}, nil)),
		string(envelope("kustomer.conversation.update", map[string]any{"type": "conversation", "id": convID, "attributes": map[string]any{"status": "done"}}, map[string]any{})),
		`{"id":"e1","name":"kustomer.message.create","data":{"type":"chat_message","relationships":{"conversation":{"data":null}}}}`,
		`{"id":"e2","name":"x","data":{"type":"conversation","id":""}}`,
		`[]`, `null`, `{"data":7}`, ``,
	} {
		f.Add([]byte(seed))
	}
	kit, err := kustomer.New(kustomer.Config{Org: "acme", APIKey: "k", From: botUser, WebhookTokens: []string{hookToken}, ReconcileInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	h := kit.WebhookHandler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/desk/webhook", bytes.NewReader(body))
		req.Header.Set(kustomer.SignatureHeader, webhook.BodyHMAC([]byte(hookToken), body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("answer %d to %q", rec.Code, body)
		}
		if rec.Code == http.StatusBadRequest && kit.Deliver(body) {
			t.Fatalf("a body the handler refused was delivered when relayed: %q", body)
		}
	})
}
