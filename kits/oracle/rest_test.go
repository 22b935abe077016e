package oracle_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/oracle"
)

const (
	siteURL  = "https://mysite.custhelp.example"
	chatBase = "https://chat.example:443/engagement/api/consumer/mysite/v1/"
)

// mocked is a kit whose calls go to httpmock: establishSessions answers
// the documented sample's shape, naming chat.example:443, pool 123:45.
func mocked(t *testing.T) (*oracle.Kit, *httpmock.MockTransport) {
	mt := httpmock.NewMockTransport()
	tok := jwtFor(1, time.Now().Add(time.Hour))
	mt.RegisterResponder(http.MethodPost, siteURL+"/services/rest/crossChannelServices/latest/establishSessions",
		httpmock.NewJsonResponderOrPanic(200, map[string]any{"jwt": tok, "channelToken": tok, "siteName": "mysite",
			"sessionServerResponse": `{"domain":"chat.example","port":443,"pool":"123:45"}`}))
	k, err := oracle.New(oracle.Config{URL: siteURL, User: "chat_api", Password: "pw", QueueID: 12,
		HTTPClient: &http.Client{Transport: mt}, Backoff: retry.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond, MaxRetryAfter: 2 * time.Second}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	return k, mt
}

func status(code int, body string, header ...string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(code, body)
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	}
}

// TestAvailabilityRetried: getQueueStats' request parameter is the URL
// encoded JSON of the queue; a 503 and a 429 with Retry-After are tried
// again (the 429 after its wait), and availableAgentSessions says online.
func TestAvailabilityRetried(t *testing.T) {
	k, mt := mocked(t)
	var query url.Values
	var at []time.Time
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
	require.NoError(t, err)
	defer sd.(interface{ Close() error }).Close()
	n := 0
	mt.RegisterResponder(http.MethodGet, `=~^`+chatBase+`getQueueStats`, func(r *http.Request) (*http.Response, error) {
		query, at = r.URL.Query(), append(at, time.Now())
		n++
		switch n {
		case 1:
			return status(503, `{"errorCode":"SERVICE_UNAVAILABLE","message":"down"}`)(r)
		case 2:
			return status(429, `{"errorCode":"TOO_MANY_REQUESTS","message":"slow down"}`, "Retry-After", "1")(r)
		}
		return httpmock.NewStringResponse(200, `{"availableAgentSessions":2,"expectedWaitSeconds":60,"queueId":12}`), nil
	})
	on, err := sd.(servicedesk.AvailabilityChecker).AreAnyAgentsOnline(context.Background(), servicedesk.MessageResponse{})
	require.NoError(t, err)
	assert.Equal(t, servicedesk.Online, on)
	require.Len(t, at, 3, "a 503 and a 429 tried again")
	assert.GreaterOrEqual(t, at[2].Sub(at[1]), 900*time.Millisecond, "the 429's Retry-After honoured")
	assert.Equal(t, "123:45", query.Get("pool"))
	var req map[string]any
	require.NoError(t, json.Unmarshal([]byte(query.Get("request")), &req))
	assert.Equal(t, map[string]any{"queueId": 12.0, "chatProactiveAvailableType": "AGENTS"}, req)

	mt.RegisterResponder(http.MethodGet, `=~^`+chatBase+`getQueueStats`, httpmock.NewStringResponder(200, `{"availableAgentSessions":0}`))
	on, err = sd.(servicedesk.AvailabilityChecker).AreAnyAgentsOnline(context.Background(), servicedesk.MessageResponse{})
	require.NoError(t, err)
	assert.Equal(t, servicedesk.Offline, on)
}

// TestPostMessageRetries: a 503 is tried again and the message taken
// once; a 400 INVALID_FIELD fails it with the server's reason; an answer
// lost after the request went is not sent again (no deduplication is
// promised), and fails the message as the desk being unavailable.
func TestPostMessageRetries(t *testing.T) {
	k, mt := mocked(t)
	mt.RegisterResponder(http.MethodPost, chatBase+"requestEngagement",
		httpmock.NewStringResponder(200, `{"engagementId":9001,"sessionId":"sess-1","clientId":501,"resultType":"SUCCESS"}`))
	mt.RegisterResponder(http.MethodPost, chatBase+"getMessages", func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done() // held until the desk closes
		return nil, r.Context().Err()
	})
	rec := &sdtest.Recorder{}
	sd := startChat(t, k, rec)
	ctx := context.Background()
	posts := 0
	mt.RegisterResponder(http.MethodPost, chatBase+"postMessage", func(r *http.Request) (*http.Response, error) {
		posts++
		if posts == 1 {
			return httpmock.NewStringResponse(503, `{"errorCode":"SERVICE_UNAVAILABLE","message":"down"}`), nil
		}
		return httpmock.NewStringResponse(200, `{"clientTransactionId":1,"messageId":"x"}`), nil
	})
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("a"), "m-1", servicedesk.AdditionalDataToAgent{}))
	assert.Equal(t, 2, posts, "a 503 tried again, then taken once")

	mt.RegisterResponder(http.MethodPost, chatBase+"postMessage",
		httpmock.NewStringResponder(400, `{"errorCode":"INVALID_FIELD","message":"The message was refused."}`))
	err := sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("b"), "m-2", servicedesk.AdditionalDataToAgent{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	assert.Contains(t, err.Error(), "The message was refused.")
	assert.Contains(t, err.Error(), "m-2", "the message named")

	lost := 0
	mt.RegisterResponder(http.MethodPost, chatBase+"postMessage", func(*http.Request) (*http.Response, error) {
		lost++
		return nil, errors.New("connection reset by peer")
	})
	err = sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("c"), "m-3", servicedesk.AdditionalDataToAgent{})
	require.ErrorIs(t, err, servicedesk.ErrUnavailable)
	assert.Equal(t, 1, lost, "an answer lost after the request went is not sent again")
}

// TestEstablishRefused: wrong chat API credentials (401) fail StartChat at
// once, not tried again.
func TestEstablishRefused(t *testing.T) {
	k, mt := mocked(t)
	calls := 0
	mt.RegisterResponder(http.MethodPost, siteURL+"/services/rest/crossChannelServices/latest/establishSessions", func(*http.Request) (*http.Response, error) {
		calls++
		return httpmock.NewStringResponse(401, `{"errorCode":"UNAUTHORIZED","message":"Access Denied"}`), nil
	})
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
	require.NoError(t, err)
	defer sd.(interface{ Close() error }).Close()
	err = sd.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	assert.Contains(t, err.Error(), "Access Denied")
	assert.Equal(t, 1, calls)
}
