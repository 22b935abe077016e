package mockdesk

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

const maxFileName = 255

// checkFileName refuses names that are no plain file name: empty, too
// long, not UTF-8, with a path, a NUL or control characters.
func checkFileName(name string) error {
	switch {
	case name == "" || len(name) > maxFileName || !utf8.ValidString(name):
	case strings.ContainsAny(name, "/\\\x00") || name != path.Base(name) || name == "." || name == "..":
	default:
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("file name %q: %w", name, ErrBadRequest)
			}
		}
		return nil
	}
	return fmt.Errorf("file name %q: %w", name, ErrBadRequest)
}

// uploadFile checks one file against the chat's capabilities and stores it
// when it passes. Either way the customer gets a file_status event and the
// agent side an observation; a rejected file is never stored.
func (d *Desk) uploadFile(ctx context.Context, chatID, token, fileID, messageID, name, mimeType string, content []byte, tooLarge bool) (deskproto.FileResult, error) {
	if err := ctx.Err(); err != nil {
		return deskproto.FileResult{}, fmt.Errorf("mockdesk: upload to chat %s: %w", chatID, err)
	}
	if fileID == "" {
		fileID = newID("f_", 8)
	}
	size := int64(len(content))
	res := deskproto.FileResult{FileID: fileID, Name: name, Size: size, Type: mimeType, Status: "ok"}
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.lookup(chatID, token)
	if err != nil {
		return deskproto.FileResult{}, fmt.Errorf("mockdesk: upload: %w", err)
	}
	if c.state == StateEnded {
		return deskproto.FileResult{}, fmt.Errorf("mockdesk: upload to chat %s: %w", chatID, ErrChatEnded)
	}
	if err := checkFileName(name); err != nil {
		return deskproto.FileResult{}, fmt.Errorf("mockdesk: upload to chat %s: %w", chatID, err)
	}
	reject := func(code *CodeError, reason string) (deskproto.FileResult, error) {
		res.Status, res.Reason = "error", reason
		d.emit(c, deskproto.Event{Type: deskproto.EventFileStatus, FileID: fileID, FileStatus: "error", Reason: reason})
		fu := fileUpload(fileID, name, mimeType, size, nil, reason)
		c.fileLog = append(c.fileLog, fu)
		d.observe(c, observation{kind: obsFile, file: fu})
		r := res
		c.addLine(TranscriptEntry{From: "customer", ID: fileID, Text: "File rejected: " + name, File: &r})
		return res, &fileError{fileID: fileID, err: fmt.Errorf("mockdesk: upload %s to chat %s: %s: %w", fileID, chatID, reason, code)}
	}
	caps := c.caps
	if tooLarge {
		size = caps.MaxFileSizeBytes + 1
		res.Size = size
	}
	ok, reason := caps.Accepts(name, mimeType, size)
	if !ok {
		code := ErrFileTypeNotAllowed
		switch {
		case !caps.AllowFileUploads:
			code = ErrUploadsDisabled
		case caps.MaxFileSizeBytes > 0 && size > caps.MaxFileSizeBytes:
			code = ErrFileTooLarge
		}
		return reject(code, reason)
	}
	if mimeType != "" && !sniffMatches(content, mimeType) {
		return reject(ErrFileTypeNotAllowed, "The file's content does not match its type.")
	}
	if c.failUpload != "" {
		reason := c.failUpload
		c.failUpload = ""
		return reject(ErrFileRejected, reason)
	}
	for _, f := range c.files {
		if f.ID == fileID {
			return res, nil // a retried upload: stored once
		}
	}
	c.files = append(c.files, StoredFile{ID: fileID, MessageID: messageID, Name: name, Type: mimeType, Size: size, Time: time.Now().UTC(), content: content})
	d.emit(c, deskproto.Event{Type: deskproto.EventFileStatus, FileID: fileID, FileStatus: "ok"})
	fu := fileUpload(fileID, name, mimeType, size, content, "")
	c.fileLog = append(c.fileLog, fu)
	d.observe(c, observation{kind: obsFile, file: fu})
	r := res
	c.addLine(TranscriptEntry{From: "customer", ID: fileID, Text: "File: " + name, File: &r})
	return res, nil
}

// sniffMatches is a light content check: images must look like one of the
// image formats we know, so a script renamed .png is refused.
func sniffMatches(content []byte, mimeType string) bool {
	if !strings.HasPrefix(mimeType, "image/") {
		return true
	}
	for _, magic := range []string{"\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF87a", "GIF89a", "RIFF"} {
		if strings.HasPrefix(string(content), magic) {
			return true
		}
	}
	return false
}
