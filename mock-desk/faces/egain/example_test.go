package egainface_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	egainface "github.com/deskbridge/deskbridge/mock-desk/faces/egain"
)

// A customer client initializes a relay session with the hand-off's
// summary among its attributes: a chat of the desk, with the summary as
// the agent's first view.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(egainface.New(desk, egainface.Options{}))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/initialize",
		strings.NewReader(`{"sessionId":"s-1","userId":"u-1","attributes":[{"name":"summary","value":"Card declined"}]}`))
	req.Header.Set("Authorization", base64.StdEncoding.EncodeToString([]byte("customer-id")))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	ac, _ := desk.AwaitChat(context.Background())
	fmt.Println(ac.Summary())
	// Output:
	// 200
	// Card declined
}
