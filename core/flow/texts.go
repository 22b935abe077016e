package flow

import (
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Texts are the lines a person sees, in Carbon's English wording. Replace
// them through Options.Texts to translate; empty fields keep the default.
type Texts struct {
	AgentJoinedName     string // "%s connected."
	AgentJoinedNoName   string
	AgentLeftName       string // "%s disconnected."
	AgentLeftNoName     string
	AgentEndedName      string // "%s ended the chat."
	AgentEndedNoName    string
	Transferring        string
	UserEndedChat       string
	ReloadWarning       string
	Disconnected        string
	Reconnected         string
	ConnectingError     string
	NoAgentsJoined      string
	ReconnectFailed     string
	AssistantReturned   string
	WaitMinutes         string // "Current wait time is %d minute(s)."
	QueuePosition       string // "You're number %d in line."
	Waiting             string
	SharingRequested    string
	SharingAccepted     string
	SharingDeclined     string
	SharingCancelled    string
	SharingEnded        string
	UploadFailed        string
	UploadTimedOut      string
	MessageNotDelivered string
	FileTypeNotAllowed  string
	TooManyFiles        string
	UploadsNotAllowed   string
}

// DefaultTexts are Carbon's English strings (languages/en.json).
var DefaultTexts = Texts{
	AgentJoinedName:     "%s connected.",
	AgentJoinedNoName:   "A live agent connected.",
	AgentLeftName:       "%s disconnected.",
	AgentLeftNoName:     "The live agent disconnected.",
	AgentEndedName:      "%s ended the chat.",
	AgentEndedNoName:    "The live agent ended the chat.",
	Transferring:        "You're being transferred.",
	UserEndedChat:       "You disconnected from the live agent.",
	ReloadWarning:       "If you refresh or leave the current page, you'll have to request a new agent.",
	Disconnected:        "Something went wrong and your connection to the live agent was lost. Check your internet connection and then try again to connect to an agent.",
	Reconnected:         "The agent reconnected.",
	ConnectingError:     "I'm sorry. Something went wrong and I cannot connect you to an agent right now.",
	NoAgentsJoined:      "No agents accepted the chat",
	ReconnectFailed:     "Your chat with the live agent could not be resumed.",
	AssistantReturned:   "Can I help you with anything else?",
	WaitMinutes:         "Current wait time is %d minute(s).",
	QueuePosition:       "You're number %d in line.",
	Waiting:             "Waiting...",
	SharingRequested:    "You were requested to share your screen.",
	SharingAccepted:     "You shared your screen.",
	SharingDeclined:     "You declined to share your screen.",
	SharingCancelled:    "The screen sharing request was cancelled.",
	SharingEnded:        "You stopped sharing your screen.",
	UploadFailed:        "There was an error uploading the file.",
	UploadTimedOut:      "The file upload timed out.",
	MessageNotDelivered: "Your message could not be delivered to the agent.",
	FileTypeNotAllowed:  "This type of file can't be uploaded.",
	TooManyFiles:        "Too many files were selected.",
	UploadsNotAllowed:   "File uploads are not allowed in this chat.",
}

// withDefaults fills empty fields from DefaultTexts.
func (t Texts) withDefaults() Texts {
	v := reflect.ValueOf(&t).Elem()
	d := reflect.ValueOf(DefaultTexts)
	for i := range v.NumField() {
		if v.Field(i).String() == "" {
			v.Field(i).SetString(d.Field(i).String())
		}
	}
	return t
}

// named picks the "with name" or "no name" form for an agent.
func named(withName, noName string, p *servicedesk.AgentProfile) string {
	if p == nil || p.Nickname == "" {
		return noName
	}
	return fmt.Sprintf(withName, p.Nickname)
}

// availabilityLine is Carbon's banner text: wait time first, then position,
// then the desk's message, else "Waiting...".
func (t Texts) availabilityLine(a servicedesk.AgentAvailability) string {
	switch {
	case a.EstimatedWaitTime != nil:
		return fmt.Sprintf(t.WaitMinutes, number(*a.EstimatedWaitTime))
	case a.PositionInQueue != nil:
		return fmt.Sprintf(t.QueuePosition, number(*a.PositionInQueue))
	case a.Message != "":
		return a.Message
	}
	return t.Waiting
}

// number prints an availability number under a %d of a text: whole
// numbers as integers, others with their decimals ("2.5"), so that texts
// written for integers keep working.
type number float64

// Format implements fmt.Formatter.
func (n number) Format(f fmt.State, verb rune) {
	v := float64(n)
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		fmt.Fprintf(f, "%d", int64(v))
		return
	}
	fmt.Fprint(f, strconv.FormatFloat(v, 'f', -1, 64))
}
