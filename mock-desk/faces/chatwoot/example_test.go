package chatwootface_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
)

// A contact as Chatwoot's public API creates it: a source id for the
// paths, a pubsub token for the cable.
func ExampleNew() {
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	srv := httptest.NewServer(chatwootface.New(d, chatwootface.Options{InboxIdentifier: "inbox"}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/public/api/v1/inboxes/inbox/contacts", "application/json", bytes.NewReader([]byte(`{"name":"Ada"}`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var c struct {
		SourceID    string `json:"source_id"`
		PubsubToken string `json:"pubsub_token"`
		Name        string `json:"name"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&c)
	fmt.Println(resp.StatusCode, c.Name, c.SourceID != "", c.PubsubToken != "")
	// Output: 200 Ada true true
}
