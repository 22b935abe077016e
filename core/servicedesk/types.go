package servicedesk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// AgentProfile is Carbon's ResponseUserProfile: who an agent is.
type AgentProfile struct {
	ID                string   `json:"id"`
	Nickname          string   `json:"nickname"`
	UserType          UserType `json:"user_type"`
	ProfilePictureURL string   `json:"profile_picture_url,omitempty"`
}

// OnlineStatus is Carbon's HumanAgentsOnlineStatus.
type OnlineStatus string

// Online statuses. Carbon's areAnyAgentsOnline answers true, false or null;
// in Go it answers one of these.
const (
	Online        OnlineStatus = "online"
	Offline       OnlineStatus = "offline"
	OnlineUnknown OnlineStatus = "unknown"
)

// AgentAvailability is Carbon's AgentAvailability: news for a waiting user.
// Carbon shows the first that is set of EstimatedWaitTime, PositionInQueue
// and Message; zero counts as set, hence the pointers. Both numbers are
// Carbon's number: 2.5 minutes is a wait.
type AgentAvailability struct {
	PositionInQueue *float64 `json:"positionInQueue,omitempty"`
	// EstimatedWaitTime is in minutes.
	EstimatedWaitTime *float64 `json:"estimatedWaitTime,omitempty"`
	Message           string   `json:"message,omitempty"`
}

// QueuePosition returns availability with only the position set.
func QueuePosition(n int) AgentAvailability {
	v := float64(n)
	return AgentAvailability{PositionInQueue: &v}
}

// WaitMinutes returns availability with only the wait time set.
func WaitMinutes(minutes float64) AgentAvailability {
	return AgentAvailability{EstimatedWaitTime: &minutes}
}

// Number returns a pointer to n as an availability number, for desks that
// count in integers.
func Number(n *int) *float64 {
	if n == nil {
		return nil
	}
	v := float64(*n)
	return &v
}

// Capabilities is Carbon's ServiceDeskCapabilities (FileUploadCapabilities):
// what the user may upload to the agent.
type Capabilities struct {
	AllowFileUploads         bool `json:"allowFileUploads"`
	AllowMultipleFileUploads bool `json:"allowMultipleFileUploads"`
	// AllowedFileUploadTypes uses the HTML accept syntax: "image/*,.txt".
	AllowedFileUploadTypes string `json:"allowedFileUploadTypes"`
	// MaxFileSizeBytes is 0 for no limit.
	MaxFileSizeBytes int64 `json:"maxFileSizeBytes,omitempty"`
	// MaxFiles is 0 for no limit.
	MaxFiles int `json:"maxFiles,omitempty"`
}

// CapabilitiesUpdate is Partial<ServiceDeskCapabilities>: nil fields are
// left alone.
type CapabilitiesUpdate struct {
	AllowFileUploads         *bool   `json:"allowFileUploads,omitempty"`
	AllowMultipleFileUploads *bool   `json:"allowMultipleFileUploads,omitempty"`
	AllowedFileUploadTypes   *string `json:"allowedFileUploadTypes,omitempty"`
	MaxFileSizeBytes         *int64  `json:"maxFileSizeBytes,omitempty"`
	MaxFiles                 *int    `json:"maxFiles,omitempty"`
}

// FullUpdate returns the update that sets every field to c's value.
func (c Capabilities) FullUpdate() CapabilitiesUpdate {
	return CapabilitiesUpdate{&c.AllowFileUploads, &c.AllowMultipleFileUploads, &c.AllowedFileUploadTypes, &c.MaxFileSizeBytes, &c.MaxFiles}
}

// Apply returns c with u's set fields applied (a shallow merge, as Carbon).
func (c Capabilities) Apply(u CapabilitiesUpdate) Capabilities {
	if u.AllowFileUploads != nil {
		c.AllowFileUploads = *u.AllowFileUploads
	}
	if u.AllowMultipleFileUploads != nil {
		c.AllowMultipleFileUploads = *u.AllowMultipleFileUploads
	}
	if u.AllowedFileUploadTypes != nil {
		c.AllowedFileUploadTypes = *u.AllowedFileUploadTypes
	}
	if u.MaxFileSizeBytes != nil {
		c.MaxFileSizeBytes = *u.MaxFileSizeBytes
	}
	if u.MaxFiles != nil {
		c.MaxFiles = *u.MaxFiles
	}
	return c
}

// Accepts reports whether a file of this name, MIME type and size may be
// uploaded, and if not, why (a sentence for the user).
func (c Capabilities) Accepts(name, mimeType string, size int64) (bool, string) {
	if !c.AllowFileUploads {
		return false, "File uploads are not allowed in this chat."
	}
	if c.MaxFileSizeBytes > 0 && size > c.MaxFileSizeBytes {
		return false, fmt.Sprintf("The file is larger than the %d byte limit.", c.MaxFileSizeBytes)
	}
	if !MatchesAccept(c.AllowedFileUploadTypes, name, mimeType) {
		return false, "This type of file can't be uploaded."
	}
	return true, ""
}

// MatchesAccept reports whether a file matches an HTML accept list such as
// "image/*,.pdf,text/plain". An empty list accepts everything.
func MatchesAccept(accept, name, mimeType string) bool {
	accept = strings.TrimSpace(accept)
	if accept == "" {
		return true
	}
	lname := strings.ToLower(name)
	lmime := strings.ToLower(strings.TrimSpace(mimeType))
	for _, a := range strings.Split(strings.ToLower(accept), ",") {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
		case a == "*/*" || a == "*":
			return true
		case strings.HasPrefix(a, "."):
			if strings.HasSuffix(lname, a) && len(lname) > len(a) {
				return true
			}
		case strings.HasSuffix(a, "/*"):
			if lmime != "" && strings.HasPrefix(lmime, a[:len(a)-1]) {
				return true
			}
		default:
			if lmime == a {
				return true
			}
		}
	}
	return false
}

// ErrorType is Carbon's ErrorType (a number on the wire).
type ErrorType int

// Error types.
const (
	ErrorConnecting   ErrorType = 1
	ErrorDisconnected ErrorType = 2
	ErrorUserMessage  ErrorType = 3
)

// String returns Carbon's enum member name.
func (t ErrorType) String() string {
	switch t {
	case ErrorConnecting:
		return "CONNECTING"
	case ErrorDisconnected:
		return "DISCONNECTED"
	case ErrorUserMessage:
		return "USER_MESSAGE"
	}
	return fmt.Sprintf("ErrorType(%d)", int(t))
}

// ErrorInfo is Carbon's ServiceDeskErrorInfo, the union of
// ConnectingErrorInfo, DisconnectedErrorInfo and UserMessageErrorInfo. Which
// fields count depends on Type; use the constructors.
type ErrorInfo struct {
	Type ErrorType
	// MessageToUser is for ErrorConnecting; empty means the default text.
	MessageToUser string
	// IsDisconnected is for ErrorDisconnected: true when the desk lost its
	// connection, false when it is back.
	IsDisconnected bool
	// MessageID is for ErrorUserMessage: the message that failed.
	MessageID string
	// LogInfo is logged, never shown.
	LogInfo json.RawMessage
}

// ConnectingError returns a CONNECTING error.
func ConnectingError(messageToUser string) ErrorInfo {
	return ErrorInfo{Type: ErrorConnecting, MessageToUser: messageToUser}
}

// DisconnectedError returns a DISCONNECTED error.
func DisconnectedError(isDisconnected bool) ErrorInfo {
	return ErrorInfo{Type: ErrorDisconnected, IsDisconnected: isDisconnected}
}

// UserMessageError returns a USER_MESSAGE error for messageID.
func UserMessageError(messageID string) ErrorInfo {
	return ErrorInfo{Type: ErrorUserMessage, MessageID: messageID}
}

type errorInfoWire struct {
	Type           ErrorType       `json:"type"`
	MessageToUser  string          `json:"messageToUser,omitempty"`
	IsDisconnected *bool           `json:"isDisconnected,omitempty"`
	MessageID      string          `json:"messageID,omitempty"`
	LogInfo        json.RawMessage `json:"logInfo,omitempty"`
}

// MarshalJSON writes the member set of e's Type.
func (e ErrorInfo) MarshalJSON() ([]byte, error) {
	w := errorInfoWire{Type: e.Type, LogInfo: e.LogInfo}
	switch e.Type {
	case ErrorConnecting:
		w.MessageToUser = e.MessageToUser
	case ErrorDisconnected:
		w.IsDisconnected = &e.IsDisconnected
	case ErrorUserMessage:
		w.MessageID = e.MessageID
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads any of the three error infos and checks the required
// members of its type.
func (e *ErrorInfo) UnmarshalJSON(b []byte) error {
	var w errorInfoWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := ErrorInfo{Type: w.Type, MessageToUser: w.MessageToUser, MessageID: w.MessageID, LogInfo: w.LogInfo}
	switch w.Type {
	case ErrorConnecting:
	case ErrorDisconnected:
		if w.IsDisconnected == nil {
			return fmt.Errorf("error info: DISCONNECTED without isDisconnected")
		}
		out.IsDisconnected = *w.IsDisconnected
	case ErrorUserMessage:
		if w.MessageID == "" {
			return fmt.Errorf("error info: USER_MESSAGE without messageID")
		}
	default:
		return fmt.Errorf("error info: unknown type %d", int(w.Type))
	}
	*e = out
	return nil
}

// FileStatus is Carbon's FileStatusValue.
type FileStatus string

// File statuses.
const (
	FileComplete  FileStatus = "complete"
	FileEdit      FileStatus = "edit"
	FileUploading FileStatus = "uploading"
	FileSuccess   FileStatus = "success"
)

// FileUpload is Carbon's FileUpload: a file the user selected or sent.
type FileUpload struct {
	ID           string     `json:"id"`
	File         File       `json:"file"`
	Status       FileStatus `json:"status"`
	IsError      bool       `json:"isError,omitempty"`
	ErrorMessage string     `json:"errorMessage,omitempty"`
}

// File stands for the browser's File: its metadata, and a way to read it.
type File struct {
	Name string `json:"name"`
	// Size is in bytes.
	Size int64 `json:"size"`
	// Type is the MIME type the browser reported; it is a claim, not a check.
	Type string `json:"type,omitempty"`
	// Open returns the content. It is nil while files are only selected
	// (FilesSelectedForUpload) and set when they are sent. Each call starts
	// from the beginning, so a kit may retry an upload.
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
}

// ScreenShareState is Carbon's ScreenShareState.
type ScreenShareState string

// Screen share states.
const (
	ScreenShareAccepted  ScreenShareState = "accepted"
	ScreenShareDeclined  ScreenShareState = "declined"
	ScreenShareCancelled ScreenShareState = "cancelled"
	ScreenShareEnded     ScreenShareState = "ended"
)

// StartChatOptions is Carbon's StartChatOptions.
type StartChatOptions struct {
	// PreStartChatPayload is what a pre-start hook set, raw JSON or nil.
	PreStartChatPayload json.RawMessage `json:"preStartChatPayload,omitempty"`
	// Handoff is the hand-off context (a deskbridge extension): the
	// verified customer, the browser's unverified claims, routing
	// attributes, the summary and the bot transcript.
	Handoff Handoff `json:"handoff,omitzero"`
}

// EndChatInfo is Carbon's EndChatInfo.
type EndChatInfo struct {
	// PreEndChatPayload is what a pre-end hook set, raw JSON or nil.
	PreEndChatPayload json.RawMessage `json:"preEndChatPayload,omitempty"`
	// EndedByHumanAgent is true when the agent (or the desk) ended the chat.
	EndedByHumanAgent bool `json:"endedByHumanAgent"`
}

// AdditionalDataToAgent is Carbon's AdditionalDataToAgent.
type AdditionalDataToAgent struct {
	FilesToUpload []FileUpload `json:"filesToUpload,omitempty"`
}

// ChatState is what the optional updateState (a deskbridge extension) tells
// a desk about the host side of the chat.
type ChatState struct {
	SessionID string            `json:"sessionID"`
	UserID    string            `json:"userID,omitempty"`
	Locale    string            `json:"locale,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// jsonFieldNames lists the JSON member names of T's exported fields.
func jsonFieldNames[T any]() map[string]struct{} {
	t := reflect.TypeFor[T]()
	names := make(map[string]struct{}, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names[name] = struct{}{}
	}
	return names
}
