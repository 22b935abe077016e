package nice_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/nice"
)

const chatAPI = "https://channels-de-eu1.niceincontact.com"

func mockedKit(t *testing.T, g *gateway) (*nice.Kit, *httpmock.MockTransport) {
	mt := httpmock.NewMockTransport()
	return g.kit(t, func(c *nice.Config) {
		c.ChatURL = chatAPI
		c.HTTPClient = &http.Client{Transport: mt}
	}), mt
}

// TestFixtureAvailability: the channel's availability (index.js
// getChannelAvailability) maps online and offline; 503 and 429 with
// Retry-After are tried again, the wait honoured.
func TestFixtureAvailability(t *testing.T) {
	g := newGateway(t)
	k, mt := mockedKit(t, g)
	url := chatAPI + "/chat/1.0/brand/1086/channel/chat_1/availability"
	mt.RegisterResponder(http.MethodGet, url, httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewStringResponse(http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`),
		func() *http.Response {
			r := httpmock.NewStringResponse(http.StatusTooManyRequests, `{"message":"Too Many Requests"}`)
			r.Header.Set("Retry-After", "1")
			return r
		}(),
		httpmock.NewStringResponse(http.StatusOK, `{"status":"online"}`),
		httpmock.NewStringResponse(http.StatusOK, `{"status":"offline"}`),
		httpmock.NewStringResponse(http.StatusOK, `{"status":"away"}`),
		httpmock.NewStringResponse(http.StatusNotFound, `{"message":"Channel not found."}`),
	}))
	sd := startDesk(t, k, &sdtest.Recorder{})
	ac := sd.(servicedesk.AvailabilityChecker)
	ctx := context.Background()
	began := time.Now()
	st, err := ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.NoError(t, err)
	require.Equal(t, servicedesk.Online, st)
	require.GreaterOrEqual(t, time.Since(began), 900*time.Millisecond, "Retry-After: 1 was not waited for")
	require.Equal(t, 3, mt.GetTotalCallCount())
	st, err = ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.NoError(t, err)
	require.Equal(t, servicedesk.Offline, st)
	st, err = ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.NoError(t, err)
	require.Equal(t, servicedesk.OnlineUnknown, st, "a status the kit does not know")
	_, err = ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.ErrorIs(t, err, servicedesk.ErrChatNotFound, "a 404 is not retried")
	require.Equal(t, 6, mt.GetTotalCallCount())
}

// TestFixtureAttachments: a file goes to the temporary upload (base64
// content, fileName, mimeType) and its fileUrl into the SendMessage's
// attachments; a file the channel refuses (400 with its file
// restrictions) fails with those restrictions as its reason, and the
// message goes without it.
func TestFixtureAttachments(t *testing.T) {
	g := newGateway(t)
	k, mt := mockedKit(t, g)
	var uploads []map[string]string
	mt.RegisterResponder(http.MethodPost, chatAPI+"/chat/1.0/brand/1086/channel/chat_1/attachment", func(r *http.Request) (*http.Response, error) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return httpmock.NewStringResponse(http.StatusBadRequest, `{}`), nil
		}
		uploads = append(uploads, body)
		if body["mimeType"] == "application/x-msdownload" {
			return httpmock.NewStringResponse(http.StatusBadRequest, `{"allowedFileSize":"10","allowedFileTypes":[{"mimeType":"image/*","description":"images"},{"mimeType":"application/pdf","description":"PDF documents"}],"isAttachmentsEnabled":true}`), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, `{"fileUrl":"https://app-eu1.brandembassy.com/upload/f1/receipt.png"}`), nil
	})
	rec := &sdtest.Recorder{}
	sd := startDesk(t, k, rec)
	ctx := context.Background()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	g.next("SendMessage")
	file := func(id, name, typ string, data []byte) servicedesk.FileUpload {
		return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: int64(len(data)),
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
	}
	png := []byte("\x89PNG\r\n\x1a\n")
	files := []servicedesk.FileUpload{file("f-ok", "receipt.png", "image/png", png), file("f-bad", "tool.exe", "application/x-msdownload", []byte("MZ"))}
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("see attached"), "m1", servicedesk.AdditionalDataToAgent{FilesToUpload: files}))
	require.Len(t, uploads, 2)
	require.Equal(t, base64.StdEncoding.EncodeToString(png), uploads[0]["content"])
	require.Equal(t, "receipt.png", uploads[0]["fileName"])
	require.Equal(t, "image/png", uploads[0]["mimeType"])
	msg := dataOf(g.next("SendMessage"))
	atts, _ := json.Marshal(msg["attachments"])
	require.JSONEq(t, `[{"url":"https://app-eu1.brandembassy.com/upload/f1/receipt.png","friendlyName":"receipt.png"}]`, string(atts))
	calls := rec.Calls()
	require.Contains(t, calls, "file(f-bad,true,The file is not allowed: files up to 10 MB of types images, PDF documents.)", sdtest.Join(calls))
	require.Contains(t, calls, "file(f-ok,false,)", sdtest.Join(calls))
}
