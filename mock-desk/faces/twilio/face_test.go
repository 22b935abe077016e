package twilioface_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	twilioface "github.com/deskbridge/deskbridge/mock-desk/faces/twilio"
)

// call makes one form-encoded REST call to the face.
func call(t testing.TB, base, method, path string, form url.Values, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("AC00000000000000000000000000000000", "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

// Example hands a conversation to a mock-desk agent through the face, and
// reads the agent's answer as Twilio's webhook.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	face := twilioface.New(desk, twilioface.Options{AuthToken: "tok"})
	srv := httptest.NewServer(face)
	defer srv.Close()
	hooks := make(chan url.Values, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		hooks <- r.PostForm
	}))
	defer recv.Close()
	t := &testing.T{}

	var conv struct{ SID string }
	call(t, srv.URL, http.MethodPost, "/v1/Conversations", url.Values{"FriendlyName": {"Chat with Uma"}}, &conv)
	call(t, srv.URL, http.MethodPost, "/v1/Conversations/"+conv.SID+"/Participants", url.Values{"Identity": {"uma"}}, nil)
	call(t, srv.URL, http.MethodPost, "/v1/Conversations/"+conv.SID+"/Webhooks", url.Values{"Target": {"webhook"},
		"Configuration.Url": {recv.URL}, "Configuration.Filters": {"onMessageAdded"}}, nil)
	call(t, srv.URL, http.MethodPost, "/v1/Interactions", url.Values{
		"Channel": {`{"type":"web","initiated_by":"customer","properties":{"media_channel_sid":"` + conv.SID + `"}}`},
		"Routing": {`{"properties":{"workspace_sid":"WS1","attributes":{"customerName":"Uma","conversationSummary":"Refund for A-17."}}}`}}, nil)

	ctx := context.Background()
	agent, _ := desk.AwaitChat(ctx)
	fmt.Println("agent reads:", agent.Summary())
	_ = agent.Join(ctx, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"})
	_, _ = agent.SayText(ctx, "Hi Uma.")
	for {
		select {
		case h := <-hooks:
			fmt.Println(h.Get("EventType"), h.Get("Author"), h.Get("Body"))
			return
		case <-time.After(5 * time.Second):
			fmt.Println("no webhook")
			return
		}
	}
	// Output:
	// agent reads: Refund for A-17.
	// onMessageAdded ada Hi Uma.
}

func TestCustomerMessagesReachTheDesk(t *testing.T) {
	desk, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	srv := httptest.NewServer(twilioface.New(desk, twilioface.Options{AuthToken: "tok"}))
	defer srv.Close()
	if got := call(t, srv.URL, http.MethodGet, "/v1/Conversations/CH1", nil, nil); got != http.StatusNotFound {
		t.Fatalf("unknown conversation: %d", got)
	}
	var conv struct{ SID string }
	if got := call(t, srv.URL, http.MethodPost, "/v1/Conversations", url.Values{"UniqueName": {"u1"}}, &conv); got != http.StatusCreated {
		t.Fatalf("create: %d", got)
	}
	var e struct{ Code int }
	if got := call(t, srv.URL, http.MethodPost, "/v1/Conversations", url.Values{"UniqueName": {"u1"}}, &e); got != http.StatusConflict || e.Code != 50353 {
		t.Fatalf("a second create of one unique name: %d %d", got, e.Code)
	}
	call(t, srv.URL, http.MethodPost, "/v1/Conversations/"+conv.SID+"/Participants", url.Values{"Identity": {"uma"}}, nil)
	call(t, srv.URL, http.MethodPost, "/v1/Interactions", url.Values{
		"Channel": {`{"type":"web","properties":{"media_channel_sid":"` + conv.SID + `"}}`},
		"Routing": {`{"properties":{"workspace_sid":"WS1"}}`}}, nil)
	var media struct{ SID string }
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/Services/IS1/Media?Filename=a.png", strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"))
	req.Header.Set("Content-Type", "image/png")
	req.SetBasicAuth("AC1", "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&media)
	resp.Body.Close()
	var m struct {
		Index   int
		Message string
	}
	if got := call(t, srv.URL, http.MethodPost, "/v1/Conversations/"+conv.SID+"/Messages", url.Values{"Author": {"uma"}, "Body": {"hello"},
		"MediaSid": {media.SID}, "Attributes": {`{"deskbridge_message_id":"m1"}`}}, &m); got != http.StatusCreated {
		t.Fatalf("message: %d %s", got, m.Message)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := desk.AwaitChatID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := desk.AwaitCustomerMessageInfo(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.IdempotencyKey != "m1" || got.Request.Input.Text != "hello" || len(got.FileIDs) != 1 {
		t.Fatalf("the desk got %+v", got)
	}
	if got := call(t, srv.URL, http.MethodGet, "/v1/Conversations/"+conv.SID, nil, nil); got != http.StatusOK {
		t.Fatalf("fetch: %d", got)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v1/Conversations/"+conv.SID, nil)
	req.SetBasicAuth("AC1", "wrong")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", resp.StatusCode)
	}
}
