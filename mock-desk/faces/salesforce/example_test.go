package salesforceface_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	salesforceface "github.com/deskbridge/deskbridge/mock-desk/faces/salesforce"
)

// Example serves the face and asks it for an end user's access token.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(salesforceface.New(desk, salesforceface.Options{OrgID: "00D000000000001", DeveloperName: "Web_Chat"}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/iamessage/api/v2/authorization/unauthenticated/access-token", "application/json",
		strings.NewReader(`{"orgId":"00D000000000001","esDeveloperName":"Web_Chat","capabilitiesVersion":"1","platform":"Web"}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}
