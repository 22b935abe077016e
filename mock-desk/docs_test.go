package mockdesk

import (
	"os"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

// TestProtocolDocCoversEverything keeps docs/desk-protocol.md and the
// OpenAPI file in step with the code: every event type, error code, fault
// kind and REST path is documented.
func TestProtocolDocCoversEverything(t *testing.T) {
	doc, err := os.ReadFile("../docs/desk-protocol.md")
	must(t, err)
	api, err := os.ReadFile("../docs/desk-protocol.openapi.yaml")
	must(t, err)
	for _, typ := range []deskproto.EventType{deskproto.EventCapabilities, deskproto.EventQueueUpdate, deskproto.EventAgentJoined, deskproto.EventAgentMessage, deskproto.EventAgentTyping, deskproto.EventAgentRead, deskproto.EventTransferStarted, deskproto.EventAgentLeft, deskproto.EventAgentEnded, deskproto.EventChatEnded, deskproto.EventFileStatus, deskproto.EventScreenShareRequested, deskproto.EventScreenShareEnded, deskproto.EventError} {
		if !strings.Contains(string(doc), `"type":"`+string(typ)+`"`) {
			t.Errorf("no JSON example of event %s in the protocol doc", typ)
		}
	}
	for _, e := range []*CodeError{errBadJSON, ErrBadRequest, ErrUnauthorized, ErrChatNotFound, errNotFound, errMethodNotAllowed, ErrChatEnded, ErrWrongState, ErrNoAgent, ErrIdempotencyReused, errBodyTooLarge, ErrFileTooLarge, ErrFileTypeNotAllowed, ErrUploadsDisabled, ErrFileRejected, errTooManyFiles, ErrBadCursor, ErrRateLimited, ErrUnavailable, ErrMessageRejected, ErrNoScreenShare, ErrUnknownAgent} {
		if !strings.Contains(string(doc), "`"+e.Code+"`") || !strings.Contains(string(api), e.Code) {
			t.Errorf("error code %s undocumented", e.Code)
		}
	}
	for _, k := range append(FaultKinds, FaultRESTLatency, FaultPollLatency, FaultWSLatency, FaultWebhookLatency) {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("fault kind %s undocumented", k)
		}
	}
	for _, p := range []string{"/v1/availability", "/v1/chats", "/v1/chats/{id}", "/v1/chats/{id}/messages", "/v1/chats/{id}/typing", "/v1/chats/{id}/read", "/v1/chats/{id}/files", "/v1/chats/{id}/end", "/v1/chats/{id}/screen_share", "/v1/chats/{id}/screen_share/stop", "/v1/chats/{id}/webhook", "/v1/chats/{id}/events"} {
		if !strings.Contains(string(api), "  "+p+":") {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}
