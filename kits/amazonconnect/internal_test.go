package amazonconnect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

type nopCallback struct{ servicedesk.Callback }

func (nopCallback) UpdateCapabilities(servicedesk.CapabilitiesUpdate)     {}
func (nopCallback) UpdateAgentAvailability(servicedesk.AgentAvailability) {}
func (nopCallback) AgentJoined(servicedesk.AgentProfile)                  {}
func (nopCallback) AgentReadMessages()                                    {}
func (nopCallback) AgentTyping(bool)                                      {}
func (nopCallback) SendMessageToUser(servicedesk.MessageResponse, string) {}
func (nopCallback) BeginTransferToAnotherAgent(*servicedesk.AgentProfile) {}
func (nopCallback) AgentLeftChat()                                        {}
func (nopCallback) AgentEndedChat()                                       {}
func (nopCallback) SetErrorStatus(servicedesk.ErrorInfo)                  {}
func (nopCallback) SetFileUploadStatus(string, bool, string)              {}
func (nopCallback) UpdatePersistedState(any) error                        { return nil }
func (nopCallback) ReplacePersistedState(any) error                       { return nil }

func testKit(t testing.TB) *Kit {
	k, err := New(Config{Region: "us-east-1", InstanceID: "i", ContactFlowID: "f", Connect: nilConnect{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

type nilConnect struct{ StartChatContactAPI }

// TestLifetime: the socket is recycled a minute before the connection
// token expires when that comes before the 59-minute transport lifetime.
func TestLifetime(t *testing.T) {
	k := testKit(t)
	for _, c := range []struct {
		expiry time.Duration
		lo, hi time.Duration
	}{
		{10 * time.Minute, 8*time.Minute + 50*time.Second, 9 * time.Minute},
		{24 * time.Hour, 59 * time.Minute, 59 * time.Minute},
		{-time.Hour, 59 * time.Minute, 59 * time.Minute}, // already expired: the next dial renews it
	} {
		st, _ := json.Marshal(saved{ConnectionExpiry: time.Now().Add(c.expiry).UTC().Format(time.RFC3339)})
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: nopCallback{}, PersistedState: st})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.lifetime(); got < c.lo || got > c.hi {
			t.Errorf("token expiring in %v: lifetime %v, want in [%v, %v]", c.expiry, got, c.lo, c.hi)
		}
		_ = d.Close()
	}
}

// FuzzDecodeFrame: no frame makes the decoder or the event mapping panic,
// and unknown types never surface as errors to the user (they are logged).
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`,
		`{"topic":"aws/heartbeat"}`,
		`{"topic":"aws/chat","contentType":"application/json","content":"{\"AbsoluteTime\":\"2024-05-01T12:00:01.000Z\",\"ContentType\":\"application/vnd.amazonaws.connect.event.participant.joined\",\"Id\":\"j\",\"Type\":\"EVENT\",\"ParticipantId\":\"a\",\"DisplayName\":\"Ada\",\"ParticipantRole\":\"AGENT\"}"}`,
		`{"topic":"aws/chat","content":"{\"Content\":\"hi\\n\\n![x](y)\",\"ContentType\":\"text/markdown\",\"Id\":\"m\",\"Type\":\"MESSAGE\",\"ParticipantRole\":\"AGENT\"}"}`,
		`{"topic":"aws/chat","content":"{\"Type\":\"MESSAGEMETADATA\",\"MessageMetadata\":{\"MessageId\":\"m\",\"Receipts\":[{\"ReadTimestamp\":\"t\",\"RecipientParticipantId\":\"a\"}]}}"}`,
		`{"topic":"aws/chat","content":{"Type":"ATTACHMENT","ParticipantRole":"CUSTOMER","Attachments":[{"AttachmentId":"x","Status":"REJECTED"}]}}`,
		`{"topic":"aws/chat","content":"{\"Type\":\"EVENT\",\"ContentType\":\"application/vnd.amazonaws.connect.event.chat.ended\"}"}`,
		`{"topic":"aws/chat","content":"{\"Type\":\"MESSAGE\",\"ContentType\":\"application/vnd.amazonaws.connect.message.interactive\",\"Content\":\"{\\\"templateType\\\":\\\"ListPicker\\\",\\\"data\\\":{\\\"content\\\":{\\\"title\\\":\\\"t\\\"}}}\",\"ParticipantRole\":\"AGENT\"}"}`,
		`{"topic":"aws/chat","content":"not an item"}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	k := testKit(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		topic, it, err := wire.DecodeFrame(b)
		if err == nil && topic == wire.TopicChat && it == nil {
			t.Fatal("aws/chat frame decoded without an item and without an error")
		}
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: nopCallback{}})
		if err != nil {
			t.Fatal(err)
		}
		d.onFrame(b) // must not panic, whatever b is
		_ = d.Close()
	})
}
