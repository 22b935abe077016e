package connectface_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	connectface "github.com/deskbridge/deskbridge/mock-desk/faces/connect"
)

// A contact started through the Connect face is a chat of the desk, with
// the summary attribute as the agent's first view.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(connectface.New(desk, connectface.Options{}))
	defer srv.Close()

	body := `{"InstanceId":"i","ContactFlowId":"f","ParticipantDetails":{"DisplayName":"Jo"},"Attributes":{"summary":"Refund for order 42"}}`
	req, _ := http.NewRequest("PUT", srv.URL+"/contact/chat", strings.NewReader(body))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/connect/aws4_request, SignedHeaders=host, Signature=abc")
	resp, _ := http.DefaultClient.Do(req)
	var out struct{ ContactId, ParticipantToken string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()

	ac, _ := desk.AwaitChat(context.Background())
	fmt.Println(resp.StatusCode, ac.ID() == out.ContactId, out.ParticipantToken != "")
	fmt.Println(ac.Summary())
	// Output:
	// 200 true true
	// Refund for order 42
}
