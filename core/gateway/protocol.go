package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Frame types the gateway sends (the "type" member).
const (
	typeWelcome   = "welcome"
	typeResult    = "result"
	typeError     = "error"
	typeEvent     = "event"
	typeHeartbeat = "heartbeat"
	typeStatus    = "status"
)

// Ops a browser sends (the "op" member). The desk ops carry the names of
// Carbon's ServiceDesk methods.
const (
	opHello                  = "hello"
	opAreAnyAgentsOnline     = "areAnyAgentsOnline"
	opStartChat              = "startChat"
	opSendMessageToAgent     = "sendMessageToAgent"
	opUserTyping             = "userTyping"
	opUserReadMessages       = "userReadMessages"
	opFilesSelectedForUpload = "filesSelectedForUpload"
	opScreenShareStop        = "screenShareStop"
	opScreenShareAnswer      = "screenShareAnswer"
	opEndChat                = "endChat"
	opReconnect              = "reconnect"
	opSnapshot               = "snapshot"
	opPing                   = "ping"
)

// opSpec is how the gateway runs an op.
type opSpec struct {
	// slow: the op waits on the desk for seconds (an availability check,
	// a reconnect): it runs off the socket's reader, one of each at a
	// time, and stops with the socket, as nobody awaits it then.
	slow bool
	// budget is what bounds the op, per session and per client address.
	budget opBudget
	// every coalesces the op to one desk call per interval, the latest
	// last, instead of bounding it (per session; per address it counts).
	every time.Duration
}

type opBudget int

const (
	noBudget    opBudget = iota
	startBudget          // StartChatsPerMinute
	deskBudget           // DeskOpsPerMinute
)

// opTable lists every op a browser sends, and how it runs.
var opTable = map[string]opSpec{
	opHello:                  {},
	opPing:                   {},
	opSnapshot:               {},
	opEndChat:                {},
	opAreAnyAgentsOnline:     {slow: true},
	opReconnect:              {slow: true},
	opStartChat:              {budget: startBudget},
	opSendMessageToAgent:     {budget: deskBudget},
	opFilesSelectedForUpload: {budget: deskBudget},
	opScreenShareStop:        {budget: deskBudget},
	opScreenShareAnswer:      {budget: deskBudget},
	opUserTyping:             {budget: deskBudget, every: time.Second},
	opUserReadMessages:       {budget: deskBudget, every: 2 * time.Second},
}

// socketMode says how a connection receives events.
type socketMode string

// Modes.
const (
	// modeDesk: every event that stands for a Carbon ServiceDeskCallback
	// call carries it (method and arguments), for the @carbon/ai-chat
	// adapter.
	modeDesk socketMode = "desk"
	// modeFlow: events are the flow engine's, with the texts a person sees,
	// for pages that draw the hand-off themselves.
	modeFlow socketMode = "flow"
)

// Error codes, in error frames and in HTTP error bodies.
const (
	codeBadFrame        = "bad_frame"
	codeFrameTooLarge   = "frame_too_large"
	codeUnknownOp       = "unknown_op"
	codeBadArgs         = "bad_args"
	codeHelloFirst      = "hello_first"
	codeBadToken        = "bad_token"
	codeBadIdentity     = "bad_identity"
	codeBadSeq          = "bad_seq"
	codeRateLimited     = "rate_limited"
	codeNoChat          = "no_chat"
	codeChatRunning     = "chat_running"
	codeStartCancelled  = "start_cancelled"
	codeEndCancelled    = "end_cancelled"
	codeNoScreenShare   = "no_screen_share"
	codeNotSharing      = "not_sharing"
	codeUnknownFile     = "unknown_file"
	codeTooManyConns    = "too_many_connections"
	codeTooManySessions = "too_many_sessions"
	codeShuttingDown    = "shutting_down"
	codeTimeout         = "timeout"
	codeInternal        = "internal"
	codeUnauthorized    = "unauthorized"
	codeBodyTooLarge    = "body_too_large"
	codeFileTooLarge    = "file_too_large"
	codeFileType        = "file_type_not_allowed"
	codeUploadsOff      = "uploads_not_allowed"
	codeTooManyFiles    = "too_many_files"
	codeForbiddenOrigin = "origin_not_allowed"
	codeHostNotAllowed  = "host_not_allowed"
	codeEventsTrimmed   = "events_trimmed"
	codeMessageTooLong  = "message_too_long"
	// codeUnavailable: the server cannot do it now (its store is
	// unreachable); the same call may be tried again.
	codeUnavailable = "unavailable"
	// codeStoreFull: the server has no room for it now.
	codeStoreFull = "store_full"
)

// request is one frame from the browser.
type request struct {
	Op   string          `json:"op"`
	ID   string          `json:"id,omitempty"`
	Args json.RawMessage `json:"args,omitempty"`
	// hello only
	Token string `json:"token,omitempty"`
	// Identity is the site's signed identity token for the user (a JWT).
	Identity string     `json:"identity,omitempty"`
	Mode     socketMode `json:"mode,omitempty"`
	LastSeq  uint64     `json:"last_seq,omitempty"`
}

// maxRequestID bounds the id a client picks for a request.
const maxRequestID = 64

// errFrame is a protocol error with its code.
type errFrame struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfterMS is set for rate_limited.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

func (e *errFrame) Error() string { return e.Code + ": " + e.Message }

func protoErr(code, format string, args ...any) *errFrame {
	return &errFrame{Code: code, Message: fmt.Sprintf(format, args...)}
}

// decodeRequest parses one text frame. It accepts exactly one JSON object
// with a known op; unknown members are ignored so that newer clients work
// with older servers.
func decodeRequest(b []byte) (request, *errFrame) {
	var r request
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return r, protoErr(codeBadFrame, "a frame must be one JSON object")
	}
	// Unmarshal, not a Decoder: it reads b in place (a Decoder copies it
	// into a buffer of its own) and refuses what follows the object.
	if err := json.Unmarshal(b, &r); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) && strings.HasSuffix(syn.Error(), "after top-level value") {
			return request{}, protoErr(codeBadFrame, "a frame must hold one JSON object, not several")
		}
		return request{}, protoErr(codeBadFrame, "the frame is not valid JSON: %s", jsonProblem(err))
	}
	if len(r.ID) > maxRequestID {
		return request{ID: r.ID[:maxRequestID]}, protoErr(codeBadFrame, "id longer than %d bytes", maxRequestID)
	}
	switch r.Op {
	case "":
		return r, protoErr(codeBadFrame, `the frame has no "op"`)
	case opHello:
		if r.Mode == "" {
			r.Mode = modeDesk
		}
		if r.Mode != modeDesk && r.Mode != modeFlow {
			return r, protoErr(codeBadArgs, "mode %q: want %q or %q", r.Mode, modeDesk, modeFlow)
		}
	default:
		if _, known := opTable[r.Op]; known {
			break
		}
		if len(r.Op) > 64 {
			r.Op = r.Op[:64]
		}
		return r, protoErr(codeUnknownOp, "unknown op %q", r.Op)
	}
	return r, nil
}

// args decodes a request's arguments into v; absent arguments leave v as is.
func (r request) args(v any) *errFrame {
	if len(r.Args) == 0 || string(r.Args) == "null" {
		return nil
	}
	if err := json.Unmarshal(r.Args, v); err != nil {
		return protoErr(codeBadArgs, "%s: arguments: %s", r.Op, jsonProblem(err))
	}
	return nil
}

// Arguments of the ops.

type connectArgs struct {
	ConnectMessage json.RawMessage `json:"connectMessage"`
	// TimeoutMS (areAnyAgentsOnline) is the client's budget for the
	// answer (Carbon's availabilityTimeoutSeconds); it can only shorten the
	// engine's AvailabilityTimeout.
	TimeoutMS int64 `json:"timeoutMs,omitempty"`
	Options   struct {
		PreStartChatPayload json.RawMessage `json:"preStartChatPayload,omitempty"`
	} `json:"options"`
	// Transcript (startChat) is the conversation with the bot before the
	// hand-off as the page saw it, oldest first.
	Transcript []servicedesk.Turn `json:"transcript,omitempty"`
}

type sendArgs struct {
	Message   json.RawMessage `json:"message"`
	MessageID string          `json:"messageID"`
	// FileIDs name files uploaded to /v1/files before.
	FileIDs []string `json:"fileIDs,omitempty"`
}

type typingArgs struct {
	IsTyping *bool `json:"isTyping"`
}

type selectedFile struct {
	ID   string `json:"id"`
	File struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
		Type string `json:"type"`
	} `json:"file"`
}

type filesArgs struct {
	Uploads []selectedFile `json:"uploads"`
}

type shareAnswerArgs struct {
	State string `json:"state"`
}

type endArgs struct {
	Info struct {
		PreEndChatPayload json.RawMessage `json:"preEndChatPayload,omitempty"`
		EndedByHumanAgent bool            `json:"endedByHumanAgent,omitempty"`
	} `json:"info"`
}

// Frames the gateway sends.

type welcomeFrame struct {
	Type    string     `json:"type"`
	Re      string     `json:"re,omitempty"`
	Session string     `json:"session"`
	Token   string     `json:"token"`
	Mode    socketMode `json:"mode"`
	// LastSeq is the session's newest event; events after the client's
	// last_seq follow the welcome.
	LastSeq uint64 `json:"last_seq"`
	// Reset: the client's last_seq is unknown here (the session is new or
	// was lost); it must drop what it shows and start from 0.
	Reset bool `json:"reset,omitempty"`
	// SkippedTo: the events up to this seq are not replayed, being no
	// longer the token's to read (an earlier chat of the session, or a
	// chat that ended more than EndedChatHistory ago); the client counts
	// on from it.
	SkippedTo uint64 `json:"skipped_to,omitempty"`
	// Resumed: the token named a session this gateway knew.
	Resumed  bool          `json:"resumed"`
	Snapshot flow.Snapshot `json:"snapshot"`
	Limits   welcomeLimits `json:"limits"`
	// storeUnavailable: the Store takes no saves now (see statusFrame); a
	// status frame says when it does again.
	StoreUnavailable bool `json:"store_unavailable,omitempty"`
}

// statusFrame tells a socket how the server stands, outside any session's
// events: today whether the Store takes saves.
type statusFrame struct {
	Type  string `json:"type"`
	Store string `json:"store"`
}

// What a status frame's store says.
const (
	storeOK          = "ok"          // saves go through
	storeUnavailable = "unavailable" // saves wait: nothing is published or answered until the store is back
)

// welcomeLimits tell the client what the gateway accepts.
type welcomeLimits struct {
	MaxFrameBytes  int64   `json:"max_frame_bytes"`
	MaxUploadBytes int64   `json:"max_upload_bytes"`
	RatePerSecond  float64 `json:"rate_per_second"`
	Burst          int     `json:"burst"`
	HeartbeatMS    int64   `json:"heartbeat_ms"`
}

type resultFrame struct {
	Type   string `json:"type"`
	Re     string `json:"re,omitempty"`
	Result any    `json:"result"`
}

type errorFrame struct {
	Type  string    `json:"type"`
	Re    string    `json:"re,omitempty"`
	Op    string    `json:"op,omitempty"`
	Error *errFrame `json:"error"`
}

type eventFrame struct {
	Type     string      `json:"type"`
	Seq      uint64      `json:"seq"`
	Event    *flow.Event `json:"event"`
	Callback *carbonCall `json:"callback,omitempty"`
}

// appendEventFrame appends the eventFrame of ev and cb to b, as
// json.Marshal would encode it, but with the event's cached encoding as it
// is: json.Marshal would validate and compact it again, on every frame.
func appendEventFrame(b []byte, ev *flow.Event, cb *carbonCall) ([]byte, error) {
	enc, err := ev.MarshalJSON()
	if err != nil {
		return b, err
	}
	b = append(b, `{"type":"`+typeEvent+`","seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"event":`...)
	b = append(b, enc...)
	switch {
	case cb != nil && cb.Method == cbSendMessageToUser && ev.Message != nil:
		// The message is the event's: its encoding is there already.
		msg, err := ev.MessageJSON()
		if err != nil {
			return b, err
		}
		b = append(b, `,"callback":{"method":"`+cbSendMessageToUser+`","args":[`...)
		b = append(b, msg...)
		for _, a := range cb.Args[1:] {
			enc, err := json.Marshal(a)
			if err != nil {
				return b, err
			}
			b = append(b, ',')
			b = append(b, enc...)
		}
		b = append(b, "]}"...)
	case cb != nil:
		call, err := json.Marshal(cb)
		if err != nil {
			return b, err
		}
		b = append(b, `,"callback":`...)
		b = append(b, call...)
	}
	return append(b, '}'), nil
}

// maxKeptFrame is the largest frame buffer a socket keeps between events.
const maxKeptFrame = 16 << 10

type heartbeatFrame struct {
	Type    string `json:"type"`
	LastSeq uint64 `json:"last_seq"`
	// Token, when set, replaces the client's (it was past half its life).
	Token string `json:"token,omitempty"`
}

// codeOf maps an engine error to a protocol code.
func codeOf(err error) string {
	var ef *errFrame
	switch {
	case errors.As(err, &ef):
		return ef.Code
	case errors.Is(err, flow.ErrNoChat):
		return codeNoChat
	case errors.Is(err, flow.ErrChatRunning):
		return codeChatRunning
	case errors.Is(err, flow.ErrStartCancelled):
		return codeStartCancelled
	case errors.Is(err, flow.ErrEndCancelled):
		return codeEndCancelled
	case errors.Is(err, flow.ErrNoScreenShareRequest):
		return codeNoScreenShare
	case errors.Is(err, flow.ErrNotSharing):
		return codeNotSharing
	case errors.Is(err, flow.ErrOtherCustomer):
		return codeBadIdentity
	case errors.Is(err, flow.ErrInvalid):
		return codeBadArgs
	case errors.Is(err, flow.ErrClosed):
		return codeShuttingDown
	case errors.Is(err, flow.ErrEventsTrimmed):
		return codeEventsTrimmed
	case errors.Is(err, errDeadline):
		return codeTimeout
	case errors.Is(err, flow.ErrStoreUnavailable):
		return codeUnavailable
	case errors.Is(err, flow.ErrStoreFull):
		return codeStoreFull
	}
	// A desk's failure, in the one vocabulary every desk maps onto.
	switch servicedesk.CodeOf(err) {
	case servicedesk.CodeUnavailable, servicedesk.CodeRateLimited:
		return codeUnavailable
	case servicedesk.CodeDeadlineExceeded:
		return codeTimeout
	}
	return codeInternal
}

var errDeadline = errors.New("gateway: operation timed out")

// jsonProblem says what is wrong with a JSON text in words a client
// developer can act on, without Go's type names.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Error() == "unexpected end of JSON input":
		return "the text ends too early"
	case errors.As(err, &syn):
		return fmt.Sprintf("a syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%q has the wrong kind of value (a JSON %s)", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("the wrong kind of value (a JSON %s)", typ.Value)
	}
	return "not the expected JSON"
}

// sentences are what a client is told for a code when the error behind
// it is the server's own (its Go text goes to the log).
var sentences = map[string]string{
	codeNoChat:         "no chat with an agent is running",
	codeChatRunning:    "a chat with an agent is already running",
	codeStartCancelled: "the request for an agent was cancelled",
	codeEndCancelled:   "the chat was not ended; it goes on",
	codeNoScreenShare:  "there is no screen share request to answer",
	codeNotSharing:     "no screen share is running",
	codeBadArgs:        "the arguments are not valid for this op",
	codeBadIdentity:    "the session belongs to another identity",
	codeShuttingDown:   "the server is shutting down; reconnect",
	codeEventsTrimmed:  "those events are no longer kept; reload the history",
	codeTimeout:        "the operation took too long; try again",
	codeUnavailable:    "the service cannot be reached now; try again in a moment",
	codeStoreFull:      "the server has no room for this now; try again later",
	codeInternal:       "something went wrong on the server; try again",
}

// publicError is the error frame for err of op on session sid: the
// gateway's own protocol errors as they are, others as their code and a
// sentence, with the Go error in the log.
func (g *Gateway) publicError(sid, op string, err error) *errFrame {
	var ef *errFrame
	if errors.As(err, &ef) {
		return ef
	}
	code := codeOf(err)
	level := slog.LevelDebug // the client's doing: it gets the code
	if code == codeInternal || code == codeUnavailable || code == codeTimeout || code == codeStoreFull {
		level = slog.LevelWarn
	}
	g.log.Log(context.Background(), level, "gateway: op failed", "session", sid, "op", op, "code", code, "err", err)
	msg, ok := sentences[code]
	if !ok {
		msg = sentences[codeInternal]
	}
	return &errFrame{Code: code, Message: msg}
}
