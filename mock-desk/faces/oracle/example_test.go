package oracleface_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
)

// Example serves the face and establishes a chat session with the chat API
// user's credentials.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(oracleface.New(desk, oracleface.Options{User: "chat_api", Password: "secret"}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+oracleface.EstablishPath, strings.NewReader(`{"sessionInformation":"{\"firstName\":\"Jo\"}"}`))
	req.SetBasicAuth("chat_api", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}
