package main

import (
	"embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// webFS holds the demo chat page: plain HTML, CSS and JavaScript, no build.
//
//go:embed web
var webFS embed.FS

// botReply is the demo bot: a few scripted answers, and a connect_to_agent
// item when the user asks for a person, as an AI assistant would.
func botReply(text string) servicedesk.MessageResponse {
	t := strings.ToLower(strings.TrimSpace(text))
	switch {
	case t == "":
		return servicedesk.TextResponse("Hi! I am the demo assistant. Ask me anything, or say **talk to a person** to reach a human agent.")
	case strings.Contains(t, "person") || strings.Contains(t, "agent") || strings.Contains(t, "human") || strings.Contains(t, "someone"):
		connect := servicedesk.GenericItem{
			ResponseType:        servicedesk.ResponseConnectToAgent,
			MessageToHumanAgent: "The customer asked for a person.",
			AgentAvailable:      &servicedesk.AgentNotice{Message: "An agent can help you now."},
			AgentUnavailable:    &servicedesk.AgentNotice{Message: "No agents are available right now. Please try again later."},
			TransferInfo: &servicedesk.TransferInfo{
				AdditionalData:        map[string]string{"source": "deskbridge demo"},
				SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem("Customer wrote: " + truncate(text, 200))},
			},
		}
		return servicedesk.NewResponse(servicedesk.TextItem("Sure, I can connect you with a person."), connect)
	case strings.Contains(t, "help"):
		return servicedesk.TextResponse("I can answer a few things, but a person knows more: say **talk to a person**.")
	}
	return servicedesk.TextResponse("I am only a demo bot, so I cannot help with that. Say **talk to a person** to reach a human agent.")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// botHandler answers POST /demo/bot {"text": …} with a MessageResponse.
func botHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		var req struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
			http.Error(w, `{"error":{"code":"bad_json","message":"want {\"text\": …}"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(botReply(req.Text))
	})
}
