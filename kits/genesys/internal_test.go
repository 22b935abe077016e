package genesys

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// FuzzDecodeFrame: no frame makes the decoder or the routing panic, and
// unknown classes and events never surface as errors to the user.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true,"allowedMedia":{"inbound":{"fileTypes":[{"type":"image/png"}],"maxFileSizeKB":10240}},"blockedExtensions":[".exe"]}}`,
		`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"m","type":"Text","text":"hi","direction":"Outbound","channel":{"from":{"nickname":"Ada"}},"content":[{"contentType":"Card","card":{"title":"t","actions":[{"type":"Link","text":"Go","url":"https://e"}]}}]}}`,
		`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"e","type":"Event","direction":"Outbound","events":[{"eventType":"Typing","typing":{"type":"On","duration":5000}}]}}`,
		`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"p","type":"Event","direction":"Outbound","events":[{"eventType":"Presence","presence":{"type":"Disconnect"}}]}}`,
		`{"type":"response","class":"TooManyRequestsErrorMessage","code":429,"body":{"retryAfter":3,"errorCode":4029,"errorMessage":"slow down"}}`,
		`{"type":"response","class":"string","code":4011,"body":"Message exceeded max message length."}`,
		`{"type":"message","class":"UploadFailureEvent","code":4003,"body":{"attachmentId":"a","errorCode":4003,"errorMessage":"virus"}}`,
		`{"type":"message","class":"SessionExpiredEvent","code":200,"body":{}}`,
		`{"type":"message","class":"Whatever","code":200,"body":[]}`,
		`{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	k, err := New(Config{Domain: "mypurecloud.com", DeploymentID: "d"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if env, err := wire.DecodeFrame(b); err == nil {
			_ = errorOf("fuzz", env).Error()
		}
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
		if err != nil {
			t.Fatal(err)
		}
		d.onFrame(b)
		_ = d.Close()
	})
}

func TestRegionsAndURLs(t *testing.T) {
	k, err := New(Config{Region: "eu-central-1", DeploymentID: "dep-1"})
	if err != nil {
		t.Fatal(err)
	}
	if k.wsURL != "wss://webmessaging.mypurecloud.de/v1?deploymentId=dep-1" || k.api != "https://api.mypurecloud.de" {
		t.Fatalf("urls %s %s", k.wsURL, k.api)
	}
	if _, err := New(Config{Region: "mars-1", DeploymentID: "d"}); err == nil {
		t.Fatal("an unknown region was accepted")
	}
	if _, err := New(Config{Region: "us-east-1"}); err == nil {
		t.Fatal("a missing deployment id was accepted")
	}
}

// TestCapabilitiesFromSession: allowedMedia becomes Carbon's capabilities.
func TestCapabilitiesFromSession(t *testing.T) {
	var s wire.SessionResponse
	_ = jsonUnmarshal(`{"connected":true,"allowedMedia":{"inbound":{"fileTypes":[{"type":"image/png"},{"type":"application/pdf"}],"maxFileSizeKB":100}}}`, &s)
	c := capabilities(s)
	if !c.AllowFileUploads || c.AllowedFileUploadTypes != "image/png,application/pdf" || c.MaxFileSizeBytes != 102400 {
		t.Fatalf("caps %+v", c)
	}
	if c := capabilities(wire.SessionResponse{}); c.AllowFileUploads {
		t.Fatalf("no allowedMedia, yet uploads allowed: %+v", c)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestCustomAttributesKeepToTheSessionsBound: the session's
// maxCustomDataBytes bounds the custom attributes when Genesys gives one;
// 2 KB when it does not.
func TestCustomAttributesKeepToTheSessionsBound(t *testing.T) {
	h := servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"},
		Attributes: map[string]string{"a": strings.Repeat("a", 200), "b": strings.Repeat("b", 200), "c": strings.Repeat("c", 200)},
	}
	size := func(m map[string]string) int {
		n := 0
		for k, v := range m {
			n += len(k) + len(v)
		}
		return n
	}
	for _, bound := range []int{300, 600, 0} {
		attrs, dropped := customAttributes(Config{SummaryAttribute: "summary"}, h, "summary text", bound)
		want := bound
		if want == 0 {
			want = maxCustomAttributeBytes
		}
		if size(attrs) > want {
			t.Errorf("bound %d: %d bytes of attributes", bound, size(attrs))
		}
		if attrs["a"] == "" {
			t.Errorf("bound %d: the first routing attribute left out: %v", bound, attrs)
		}
		if bound == 0 && attrs["customer_id"] != "c-42" {
			t.Errorf("2 KB: the customer's id left out: %v", attrs)
		}
		if bound == 300 && dropped == 0 {
			t.Errorf("bound 300: nothing dropped from %d bytes", size(attrs))
		}
	}
}

// TestAnEndedChatsConnectionLeavesTheNextChatBe: the connection of a chat
// that ended may report its end (or a last frame) after the next chat's
// session was configured; before, that end made the next chat wait for a
// configuration that never came, and its messages never reached the desk.
func TestAnEndedChatsConnectionLeavesTheNextChatBe(t *testing.T) {
	k, err := New(Config{Domain: "mypurecloud.com", DeploymentID: "d"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first := d.socketConfig()

	// The next chat: its connection, its session configured.
	d.socketConfig()
	next := make(chan struct{})
	close(next)
	d.mu.Lock()
	d.ready, d.configured = next, true
	d.mu.Unlock()

	first.OnState(false, nil)
	first.OnMessage([]byte(`{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true,"readOnly":true}}`))
	d.mu.Lock()
	ready := d.ready
	d.mu.Unlock()
	if ready != next {
		t.Fatal("the ended chat's connection reset the next chat's configuration")
	}
	if d.Ended() {
		t.Fatal("the ended chat's last frame ended the next chat")
	}
	if err := d.awaitReady(t.Context()); err != nil {
		t.Fatalf("the next chat's requests wait: %v", err)
	}
}
