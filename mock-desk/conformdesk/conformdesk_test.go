package conformdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAdapter plays a REST customer against the adapter: a message with a
// file, a refused message, a failed upload, faults.
func TestAdapter(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	client := &http.Client{Transport: &http.Transport{}}
	defer func() { client.CloseIdleConnections(); _ = d.Close(); srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var desk conformance.Desk = New(d)

	post := func(path, token, key string, body []byte, ctype string) int {
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+token)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var start deskproto.ChatInfo
	resp, err := client.Post(srv.URL+"/v1/chats", "application/json", bytes.NewReader([]byte(`{"connect_item":{"response_type":"connect_to_agent","message_to_human_agent":"Help with a refund"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&start)
	resp.Body.Close()

	chat, err := desk.NextChat(ctx)
	if err != nil || chat.ID() != start.ChatID || chat.Summary() != "Help with a refund" {
		t.Fatalf("NextChat = %v %v", chat, err)
	}
	if err := chat.Join(ctx, servicedesk.AgentProfile{ID: "a", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	msg, _ := json.Marshal(map[string]any{"message": servicedesk.NewTextRequest("receipt attached"), "file_ids": []string{"f-1"}})
	if st := post("/v1/chats/"+start.ChatID+"/messages", start.ChatToken, "m-1", msg, "application/json"); st != 201 {
		t.Fatal(st)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("file_id", "f-1")
	w, _ := mw.CreateFormFile("file", "notes.txt")
	_, _ = w.Write([]byte("data"))
	_ = mw.Close()
	if st := post("/v1/chats/"+start.ChatID+"/files", start.ChatToken, "", buf.Bytes(), mw.FormDataContentType()); st != 201 {
		t.Fatal(st)
	}
	got, err := chat.AwaitMessage(ctx)
	if err != nil || got.ID != "m-1" || got.Text != "receipt attached" || len(got.Files) != 1 || string(got.Files[0].Data) != "data" || got.Rejected {
		t.Fatalf("AwaitMessage = %+v, %v", got, err)
	}
	if err := chat.RejectNextMessage(ctx, "no"); err != nil {
		t.Fatal(err)
	}
	if st := post("/v1/chats/"+start.ChatID+"/messages", start.ChatToken, "m-2", []byte(`{"message":{"input":{"text":"x"}}}`), "application/json"); st != 422 {
		t.Fatal(st)
	}
	if got, _ := chat.AwaitMessage(ctx); got.ID != "m-2" || !got.Rejected {
		t.Fatalf("rejected = %+v", got)
	}
	f := Faults(d)
	if err := f.Set(ctx, conformance.FaultProfile{Seed: 1, ServerErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	if st := post("/v1/chats/"+start.ChatID+"/typing", start.ChatToken, "", []byte(`{"typing":true}`), "application/json"); st != 503 {
		t.Fatal(st)
	}
	if n, _ := f.Injected(ctx); n[mockdesk.FaultREST5xx] != 1 {
		t.Fatal(n)
	}
	_ = f.Set(ctx, conformance.FaultProfile{})
	if err := chat.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chat.AwaitEnded(ctx); err != nil {
		t.Fatal(err)
	}
}
