package egain

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/egain/internal/wire"
)

// FuzzDecodePush: no frame makes the decoders or the routing panic.
func FuzzDecodePush(f *testing.F) {
	for _, s := range []string{
		`{"authorization":"t","eGainMessage":"{\"type\":\"agent.join\",\"value\":\"{\\\"agentName\\\":\\\"Ada\\\"}\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"id\":\"m2\",\"type\":\"text\",\"value\":\"See <a href=\\\"https://e\\\">x</a> <img src=\\\"https://i\\\" alt=\\\"a\\\">\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"text\",\"value\":\"agent.end.conversation\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"typing.start\",\"value\":\"\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"agent.unavailable\",\"value\":\"busy\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"agent.transfer\",\"value\":\"{\\\"agentName\\\":\\\"Bo\\\"}\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"queue.transfer\",\"value\":\"{}\"}"}`,
		`{"authorization":"t","eGainMessage":"{\"type\":\"conversation.state\",\"value\":\"{}\"}"}`,
		`{"authorization":"t","status":"Conversation ended"}`,
		`{"authorization":"t","status":"connected"}`,
		`{"authorization":"t","messageId":"m","error":{"code":"429","message":"slow","retryAfter":2}}`,
		`{"authorization":"t","eGainMessage":"not json"}`,
		`{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	k, err := New(Config{URL: "https://relay.example", EntryPointID: "1", CustomerID: "c"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, m, err := wire.DecodePush(b); err == nil && m != nil {
			_, _ = wire.DecodeAgent(m.Value)
			_ = servicedesk.MarkdownItems(wire.Markdown(m.Value))
		}
		_, _ = wire.DecodeAvailability(b)
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
		if err != nil {
			t.Fatal(err)
		}
		d.st.Token = "t"
		d.onFrame(b)
		_ = d.Close()
	})
}

// TestMarkdown: the agent's HTML links and images become markdown, as the
// starter kit's extractLinks does for links.
func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		`See <a href="https://e.example/p" target="_blank">the policy</a>.`: "See [the policy](https://e.example/p).",
		`<img src="https://e.example/r.png" alt="Receipt">`:                 "![Receipt](https://e.example/r.png)",
		`<a href="https://e.example/f?a=1&amp;b=2">Form</a>`:                "[Form](https://e.example/f?a=1&b=2)",
		"plain **text**": "plain **text**",
	} {
		if got := wire.Markdown(in); got != want {
			t.Errorf("Markdown(%q) = %q, want %q", in, got, want)
		}
	}
}
