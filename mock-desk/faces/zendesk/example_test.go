package zendeskface_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	zendeskface "github.com/deskbridge/deskbridge/mock-desk/faces/zendesk"
)

// Example serves a mock-desk behind its Zendesk face and creates a user
// as an integration would, with the face's API key.
func Example() {
	desk, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer desk.Close()
	face := zendeskface.New(desk, zendeskface.Options{AppID: "app1", KeyID: "app_key1", KeySecret: "s3cret"})
	srv := httptest.NewServer(face)
	defer srv.Close()

	for _, secret := range []string{"wrong", "s3cret"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2/apps/app1/users", strings.NewReader(`{"externalId":"cust-42"}`))
		req.SetBasicAuth("app_key1", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 401 Unauthorized
	// 201 Created
}
