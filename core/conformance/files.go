package conformance

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fileFor picks a file the reported capabilities allow: a PNG if images
// are, else a text file.
func fileFor(caps servicedesk.Capabilities, id string) (servicedesk.FileUpload, []byte) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	name, typ, data := "receipt.png", "image/png", png
	if !servicedesk.MatchesAccept(caps.AllowedFileUploadTypes, name, typ) {
		name, typ, data = "notes.txt", "text/plain", []byte("card 4242 declined")
	}
	return upload(id, name, typ, data), data
}

func upload(id, name, typ string, data []byte) servicedesk.FileUpload {
	return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
}

func (f *fixture) capsAfterJoin() servicedesk.Capabilities {
	snap, err := f.s.Snapshot(f.ctx)
	require.NoError(f.t, err, "snapshot")
	if !snap.Capabilities.AllowFileUploads {
		ev := f.await("capabilities allowing uploads", func(ev flow.Event) bool {
			return ev.Type == flow.EventCapabilities && ev.Capabilities.AllowFileUploads
		})
		return *ev.Capabilities
	}
	return snap.Capabilities
}

// TestFilesAccepted: a file the desk allows reaches the agent, byte for
// byte, and its status is success.
func TestFilesAccepted(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.FileUpload, "FileUpload")
	f := newFixture(t, maker)
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	fu, data := fileFor(caps, "file-ok")
	require.NoError(f.t, f.s.SelectFiles(f.ctx, []servicedesk.FileUpload{fu}), "select files")
	_, err := f.s.SendMessage(f.ctx, servicedesk.NewTextRequest("here is the receipt"), []servicedesk.FileUpload{fu})
	require.NoError(f.t, err, "send with file")
	msg, err := chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message")
	require.Len(f.t, msg.Files, 1, "files at the desk")
	require.Equal(f.t, data, msg.Files[0].Data, "the file's bytes at the desk")
	require.Equal(f.t, fu.File.Name, msg.Files[0].Name, "the file's name at the desk")
	ev := f.await("file status", isType(flow.EventFileStatus))
	require.Equal(f.t, "file-ok", ev.FileID, "file status %+v", ev)
	require.Equal(f.t, servicedesk.FileSuccess, ev.FileStatus, "file status %+v", ev)
}

// TestFilesRejectedWithReason: a file the desk refuses is reported failed
// with the desk's reason.
func TestFilesRejectedWithReason(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.FileUpload, "FileUpload")
	f := newFixture(t, maker)
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	// Sent without selection checks, so the desk itself must refuse it.
	bad := upload("file-bad", "tool.exe", "application/x-msdownload", []byte("MZ\x90\x00"))
	if servicedesk.MatchesAccept(caps.AllowedFileUploadTypes, "tool.exe", "application/x-msdownload") {
		big := make([]byte, caps.MaxFileSizeBytes+1)
		fu, _ := fileFor(caps, "file-bad")
		bad = upload("file-bad", fu.File.Name, fu.File.Type, big)
	}
	_, err := f.s.SendMessage(f.ctx, servicedesk.MessageRequest{}, []servicedesk.FileUpload{bad})
	require.NoError(f.t, err, "send bad file")
	ev := f.await("file refused", isType(flow.EventFileStatus))
	require.Equal(f.t, "file-bad", ev.FileID, "file status %+v", ev)
	require.Equal(f.t, flow.MessageFailed, ev.Status, "file status %+v", ev)
	require.NotEmpty(f.t, ev.Text, "file status %+v: want the desk's reason", ev)
	msg, err := chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message")
	if len(msg.Files) == 1 && msg.Files[0].Rejected != "" {
		assert.Equal(f.t, msg.Files[0].Rejected, ev.Text, "what the user sees, want the desk's reason")
	}
}

// TestUploadFailsAfterSend: a file the desk fails after taking its message
// (a virus scan) is reported failed with the reason.
func TestUploadFailsAfterSend(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.FileUpload, "FileUpload")
	f := newFixture(t, maker)
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	fu, _ := fileFor(caps, "file-late")
	require.NoError(f.t, chat.FailNextUpload(f.ctx, "The file did not pass the virus scan"), "fail next upload")
	_, err := f.s.SendMessage(f.ctx, servicedesk.NewTextRequest("see attached"), []servicedesk.FileUpload{fu})
	require.NoError(f.t, err, "send")
	ev := f.await("file failed", isType(flow.EventFileStatus))
	require.Equal(f.t, "file-late", ev.FileID, "file status %+v", ev)
	require.Equal(f.t, flow.MessageFailed, ev.Status, "file status %+v", ev)
	require.Equal(f.t, "The file did not pass the virus scan", ev.Text, "file status %+v", ev)
}
