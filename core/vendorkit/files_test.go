package vendorkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

func files(names ...string) []servicedesk.FileUpload {
	var out []servicedesk.FileUpload
	for _, n := range names {
		out = append(out, servicedesk.FileUpload{ID: n, File: servicedesk.File{Name: n, Type: "image/png", Size: 10}})
	}
	return out
}

// TestSendWithFiles: a file whose upload fails is reported at once and
// left out of the message; the others are reported with the message's
// outcome, a refusal's reason theirs.
func TestSendWithFiles(t *testing.T) {
	upload := func(_ context.Context, f servicedesk.FileUpload) (string, error) {
		if f.ID == "bad" {
			return "", errors.New("too large for the vendor")
		}
		return "media-" + f.ID, nil
	}
	why := func(err error) string { return "not sent: " + err.Error() }

	rec := &sdtest.Recorder{}
	var sent []string
	err := vendorkit.SendWithFiles(context.Background(), rec, nil, files("a", "bad", "b"), upload, why, func(_ context.Context, media []string) error {
		sent = media
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, []string{"media-a", "media-b"}, sent)
	assert.Equal(t, []string{"file(bad,true,not sent: too large for the vendor)", "file(a,false,)", "file(b,false,)"}, rec.Calls())

	rec = &sdtest.Recorder{}
	refused := errors.New("refused")
	err = vendorkit.SendWithFiles(context.Background(), rec, nil, files("a"), upload, why, func(context.Context, []string) error { return refused })
	assert.ErrorIs(t, err, refused)
	assert.Equal(t, []string{"file(a,true,not sent: refused)"}, rec.Calls())

	// A desk away for a while: the engine sends the message again or
	// reports its files failed, so nothing is reported here; a failed
	// upload is still reported at once.
	rec = &sdtest.Recorder{}
	away := fmt.Errorf("send: 503: %w", servicedesk.ErrUnavailable)
	err = vendorkit.SendWithFiles(context.Background(), rec, nil, files("a", "bad"), upload, why, func(context.Context, []string) error { return away })
	assert.ErrorIs(t, err, away)
	assert.True(t, servicedesk.IsTemporary(err))
	assert.Equal(t, []string{"file(bad,true,not sent: too large for the vendor)"}, rec.Calls())
}

// TestRefuseFiles: only the files outside the capabilities are reported.
func TestRefuseFiles(t *testing.T) {
	rec := &sdtest.Recorder{}
	caps := servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*", MaxFileSizeBytes: 100}
	big := files("big")
	big[0].File.Size = 1000
	vendorkit.RefuseFiles(rec, caps, append(files("ok"), big...))
	calls := rec.Calls()
	if assert.Len(t, calls, 1) {
		assert.Contains(t, calls[0], "file(big,true,")
	}
}
