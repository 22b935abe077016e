package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fileStore keeps uploaded files until a message takes them to the desk
// and their chat ends. Their bytes live in a flow.FileStore (the engine's
// Store when it persists, so that a message resent after a restart still
// has its files); the gateway remembers what it took per session, to bound
// a session's uploads.
type fileStore struct {
	max     int
	backend flow.FileStore

	mu    sync.Mutex
	bySes map[string]map[string]flow.FileInfo
}

func newFileStore(max int, backend flow.FileStore) *fileStore {
	return &fileStore{max: max, backend: backend, bySes: make(map[string]map[string]flow.FileInfo)}
}

// errTooManyFiles: a session has MaxSessionFiles uploads already.
var errTooManyFiles = errors.New("too many files in this chat")

func (s *fileStore) put(ctx context.Context, sid string, info flow.FileInfo, data []byte) error {
	s.mu.Lock()
	files := s.bySes[sid]
	_, replace := files[info.ID]
	full := !replace && len(files) >= s.max
	s.mu.Unlock()
	if full {
		return errTooManyFiles
	}
	if err := s.backend.PutFile(ctx, sid, info, data); err != nil {
		return err
	}
	info.Size = int64(len(data))
	s.mu.Lock()
	if s.bySes[sid] == nil {
		s.bySes[sid] = make(map[string]flow.FileInfo)
	}
	s.bySes[sid][info.ID] = info
	s.mu.Unlock()
	return nil
}

// get returns the upload as the desk sees it; its Open reads the bytes
// from the backend each time.
func (s *fileStore) get(ctx context.Context, sid, id string) (servicedesk.FileUpload, bool) {
	s.mu.Lock()
	info, ok := s.bySes[sid][id]
	s.mu.Unlock()
	if !ok {
		// Taken before a restart: the backend still has it.
		var rc io.ReadCloser
		var err error
		if info, rc, err = s.backend.OpenFile(ctx, sid, id); err != nil {
			return servicedesk.FileUpload{}, false
		}
		rc.Close()
	}
	backend := s.backend
	return servicedesk.FileUpload{ID: id, Status: servicedesk.FileUploading, File: servicedesk.File{
		Name: info.Name, Size: info.Size, Type: info.Type,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			_, rc, err := backend.OpenFile(ctx, sid, id)
			return rc, err
		},
	}}, true
}

// drop forgets a session's uploads, bytes included.
func (s *fileStore) drop(ctx context.Context, sid string) error {
	s.mu.Lock()
	delete(s.bySes, sid)
	s.mu.Unlock()
	return s.backend.DeleteFiles(ctx, sid)
}

// OpenFile reopens an upload of a session; it fits flow.Options.OpenFile
// for an engine the caller builds, so that messages resent after an engine
// restart still carry their files.
func (g *Gateway) OpenFile(ctx context.Context, sessionID, fileID string) (io.ReadCloser, error) {
	_, rc, err := g.files.backend.OpenFile(ctx, sessionID, fileID)
	if err != nil {
		return nil, fmt.Errorf("gateway: open file %s of session %s: %w", fileID, sessionID, err)
	}
	return rc, nil
}

var errUnknownFile = errors.New("no such upload")

// cors answers a preflight and sets the CORS headers of an allowed origin;
// false when the origin is not allowed (the response is written).
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request, methods string) bool {
	origin, ok := g.origins.check(r)
	if !ok {
		g.stats.add(&g.stats.originRejected)
		writeHTTPError(w, http.StatusForbidden, CodeForbiddenOrigin, "origin "+origin+" is not allowed")
		return false
	}
	if origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Methods", methods+", OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// endpoint runs the checks every HTTP endpoint makes: CORS and preflight,
// the method, and the token; it returns the session the token opens.
func (g *Gateway) endpoint(w http.ResponseWriter, r *http.Request, method string) (string, bool) {
	if !g.cors(w, r, method) {
		return "", false
	}
	if r.Method != method {
		w.Header().Set("Allow", method+", OPTIONS")
		writeHTTPError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+method)
		return "", false
	}
	return g.authorize(w, r)
}

// authorize returns the session a request's bearer token opens.
func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		writeHTTPError(w, http.StatusUnauthorized, CodeUnauthorized, "Authorization: Bearer <session token> is required")
		g.stats.errorCode(CodeUnauthorized)
		return "", false
	}
	sid, ok := g.tokens.verify(tok)
	if !ok {
		writeHTTPError(w, http.StatusUnauthorized, CodeBadToken, "the session token is not valid here")
		g.stats.errorCode(CodeBadToken)
		return "", false
	}
	return sid, true
}

// uploadResult is one file's outcome.
type uploadResult struct {
	FileID string `json:"file_id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
}

// serveUpload takes one file per request: multipart fields file_id, then
// file. The file is checked against the gateway's limits and the chat's
// capabilities (size, type by name and MIME type, and the content's magic
// bytes for images, PDFs and text), and kept for a later
// sendMessageToAgent that names its file_id.
func (g *Gateway) serveUpload(w http.ResponseWriter, r *http.Request) {
	sid, ok := g.endpoint(w, r, http.MethodPost)
	if !ok {
		return
	}
	fail := func(status int, code, msg string) {
		g.stats.errorCode(code)
		g.log.Info("gateway: upload refused", "session", sid, "code", code)
		writeHTTPError(w, status, code, msg)
	}
	if _, live := g.engine.Lookup(sid); !live && !g.ownedElsewhere(sid) {
		fail(http.StatusConflict, CodeNoChat, "the session has no chat; connect first")
		return
	}
	g.touch(sid)
	max := g.opts.MaxUploadBytes
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail(http.StatusBadRequest, CodeBadArgs, "the body must be multipart/form-data")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fileID := ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			fail(http.StatusBadRequest, CodeBadArgs, `no "file" part`)
			return
		}
		if err != nil {
			if isTooLarge(err) {
				fail(http.StatusRequestEntityTooLarge, CodeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
				return
			}
			fail(http.StatusBadRequest, CodeBadArgs, "malformed multipart body: "+err.Error())
			return
		}
		switch p.FormName() {
		case "file_id":
			b, _ := io.ReadAll(io.LimitReader(p, 129))
			fileID = string(b)
			if fileID == "" || len(fileID) > 128 || !utf8.ValidString(fileID) {
				fail(http.StatusBadRequest, CodeBadArgs, "file_id must be 1 to 128 bytes of text")
				return
			}
		case "file":
			if fileID == "" {
				fail(http.StatusBadRequest, CodeBadArgs, `send the "file_id" field before "file"`)
				return
			}
			g.takeFile(w, r, sid, fileID, p, fail)
			return
		}
	}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (g *Gateway) takeFile(w http.ResponseWriter, r *http.Request, sid, fileID string, p *multipart.Part, fail func(int, string, string)) {
	max := g.opts.MaxUploadBytes
	name := path.Base(strings.ReplaceAll(p.FileName(), `\`, "/"))
	if name == "" || name == "." || name == "/" || len(name) > 255 || strings.ContainsRune(name, 0) || !utf8.ValidString(name) {
		fail(http.StatusBadRequest, CodeBadArgs, "the file needs a plain name of at most 255 bytes")
		return
	}
	claimed := p.Header.Get("Content-Type")
	data, err := io.ReadAll(io.LimitReader(p, max+1))
	if err != nil {
		if isTooLarge(err) {
			fail(http.StatusRequestEntityTooLarge, CodeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
			return
		}
		fail(http.StatusBadRequest, CodeBadArgs, "reading the file: "+err.Error())
		return
	}
	if int64(len(data)) > max {
		fail(http.StatusRequestEntityTooLarge, CodeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.OpTimeout)
	defer cancel()
	snap, err := g.snapshotOf(ctx, sid)
	if err != nil {
		fail(http.StatusServiceUnavailable, codeOf(err), err.Error())
		return
	}
	caps := snap.Capabilities
	if !caps.AllowFileUploads {
		fail(http.StatusForbidden, CodeUploadsOff, "the desk does not take files in this chat")
		return
	}
	if ok, why := caps.Accepts(name, claimed, int64(len(data))); !ok {
		code, status := CodeFileType, http.StatusUnsupportedMediaType
		if caps.MaxFileSizeBytes > 0 && int64(len(data)) > caps.MaxFileSizeBytes {
			code, status = CodeFileTooLarge, http.StatusRequestEntityTooLarge
		}
		fail(status, code, why)
		return
	}
	typ, why := checkContent(g.opts.UploadTypes, name, claimed, data)
	if why != "" {
		fail(http.StatusUnsupportedMediaType, CodeFileType, why)
		return
	}
	if err := g.files.put(ctx, sid, flow.FileInfo{ID: fileID, Name: name, Type: typ}, data); err != nil {
		switch {
		case errors.Is(err, errTooManyFiles):
			fail(http.StatusConflict, CodeTooManyFiles, fmt.Sprintf("a chat takes at most %d files", g.opts.MaxSessionFiles))
		case errors.Is(err, flow.ErrStoreFull):
			g.log.Warn("gateway: the file store is full", "session", sid, "err", err)
			fail(http.StatusInsufficientStorage, CodeStoreFull, "the server has no room for the file now; try again later")
		default:
			g.log.Error("gateway: store an upload", "session", sid, "err", err)
			w.Header().Set("Retry-After", "2")
			fail(http.StatusServiceUnavailable, CodeUnavailable, "the file could not be stored now; try again")
		}
		return
	}
	g.stats.add(&g.stats.uploads)
	g.stats.uploadBytes.Add(uint64(len(data)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, uploadResult{FileID: fileID, Name: name, Size: int64(len(data)), Type: typ})
}

// checkContent applies the gateway's own allowlist and checks that the
// content is what the name and type say: the type a browser sends is a
// claim, the magic bytes are evidence. It returns the type to pass on.
func checkContent(accept, name, claimed string, data []byte) (string, string) {
	sniffed, _, _ := strings.Cut(http.DetectContentType(data), ";")
	ext := strings.ToLower(path.Ext(name))
	typ := strings.ToLower(strings.TrimSpace(claimed))
	if typ == "" || typ == "application/octet-stream" {
		typ = mime.TypeByExtension(ext)
		typ, _, _ = strings.Cut(typ, ";")
	}
	if !servicedesk.MatchesAccept(accept, name, typ) {
		return "", "this type of file is not accepted here"
	}
	isImageExt := map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".bmp": true, ".ico": true}[ext]
	switch {
	case strings.HasPrefix(typ, "image/") || isImageExt:
		if !strings.HasPrefix(sniffed, "image/") {
			return "", "the file is not the image its name or type says"
		}
		return sniffed, ""
	case typ == "application/pdf" || ext == ".pdf":
		if sniffed != "application/pdf" {
			return "", "the file is not the PDF its name or type says"
		}
		return sniffed, ""
	case strings.HasPrefix(typ, "text/") || ext == ".txt":
		if !strings.HasPrefix(sniffed, "text/plain") || !utf8.Valid(data) {
			return "", "the file is not plain text"
		}
		return "text/plain", ""
	}
	return typ, ""
}
