package vendorkit

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
)

// SendWithFiles is the rule of a customer's message with files, for desks
// that upload files before the message that carries them: each file is
// uploaded first; one that fails is reported failed at once (why(err), a
// sentence for the customer) and left out. send then sends the message
// with the uploads (in the files' order), and the uploaded files are
// reported sent once it is, or failed with why(err) when it is refused.
// A send that fails for a while (servicedesk.IsTemporary) reports nothing
// of the uploaded files: the engine owns that outcome, and either sends
// the message again later (the files with it) or reports them failed, so
// a file is never shown failed and then sent. send's error is
// SendWithFiles'. log, when set, hears of failed uploads.
func SendWithFiles[U any](ctx context.Context, cb servicedesk.Callback, log *slog.Logger, files []servicedesk.FileUpload,
	upload func(context.Context, servicedesk.FileUpload) (U, error), why func(error) string, send func(context.Context, []U) error) error {
	var uploads []U
	var ids []string
	for _, f := range files {
		u, err := upload(ctx, f)
		if err != nil {
			if log != nil {
				log.Warn("upload failed", "file", f.ID, "err", err)
			}
			cb.SetFileUploadStatus(f.ID, true, why(err))
			continue
		}
		uploads, ids = append(uploads, u), append(ids, f.ID)
	}
	err := send(ctx, uploads)
	if servicedesk.IsTemporary(err) {
		return err
	}
	reason := ""
	if err != nil {
		reason = why(err)
	}
	for _, id := range ids {
		cb.SetFileUploadStatus(id, err != nil, reason)
	}
	return err
}

// FileRefusal is what the customer reads of a file that could not be
// sent: the desk's reason when it refused the file (httpjson.Refusal),
// else a general line. It is SendWithFiles' why for most desks.
func FileRefusal(err error) string {
	return cmp.Or(httpjson.Refusal(err), "The file could not be sent.")
}

// RefuseFiles is the body of a desk's FilesSelectedForUpload: each file
// outside caps (its types, its size) is reported failed at once, with the
// sentence Capabilities.Accepts gives, before the customer sends it.
func RefuseFiles(cb servicedesk.Callback, caps servicedesk.Capabilities, uploads []servicedesk.FileUpload) {
	for _, u := range uploads {
		if ok, why := caps.Accepts(u.File.Name, u.File.Type, u.File.Size); !ok {
			cb.SetFileUploadStatus(u.ID, true, why)
		}
	}
}
