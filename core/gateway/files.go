package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fileStore keeps uploaded files until a message takes them to the desk
// and their chat ends. Their bytes live in a flow.FileStore (the engine's
// Store when it persists, so that a message resent after a restart still
// has its files); the gateway remembers what it took per session and chat,
// to bound a chat's uploads, the bytes of all, and the uploads in flight.
type fileStore struct {
	lim     uploadLimits
	backend flow.FileStore
	dir     string        // where bodies are spilled while received ("": os.TempDir())
	loading chan struct{} // bounds the files read into memory for a backend that is no FileStreamer

	mu       sync.Mutex
	bySes    map[string]*sessionFiles
	held     int64 // bytes kept and reserved, all sessions
	inFlight int
}

type uploadLimits struct {
	files           int   // per chat
	chatBytes       int64 // per chat
	totalBytes      int64 // all sessions
	inFlight        int   // all sessions
	inFlightSession int
}

// sessionFiles is what one session uploaded in its current chat.
type sessionFiles struct {
	chat     uint64
	files    map[string]flow.FileInfo
	bytes    int64 // kept and reserved
	inFlight int
}

// maxLoading is how many files at once are read into memory to be stored
// in a backend that takes bytes only (the memory and Redis stores).
const maxLoading = 2

func newFileStore(lim uploadLimits, backend flow.FileStore, dir string) *fileStore {
	return &fileStore{lim: lim, backend: backend, dir: dir, loading: make(chan struct{}, maxLoading), bySes: make(map[string]*sessionFiles)}
}

// Upload refusals before the body is read.
var (
	errTooManyFiles = errors.New("too many files in this chat")
	errChatBytes    = errors.New("the chat's uploads are over their byte budget")
	errUploadsBusy  = errors.New("too many uploads in flight")
)

// upload is room reserved for one upload being read.
type upload struct {
	s        *fileStore
	sid      string
	chat     uint64
	reserved int64
}

// begin reserves room for an upload of at most n bytes in chat of session
// sid, before its body is read. A new chat starts the session's count
// afresh (the engine deleted the files of the last one).
func (s *fileStore) begin(sid string, chat uint64, n int64) (*upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sf := s.bySes[sid]
	if sf == nil || sf.chat != chat {
		if sf != nil {
			s.held -= sf.bytes
		}
		sf = &sessionFiles{chat: chat, files: make(map[string]flow.FileInfo)}
		s.bySes[sid] = sf
	}
	switch {
	case s.inFlight >= s.lim.inFlight || sf.inFlight >= s.lim.inFlightSession:
		return nil, errUploadsBusy
	case len(sf.files)+sf.inFlight >= s.lim.files:
		return nil, errTooManyFiles
	case sf.bytes+n > s.lim.chatBytes:
		return nil, errChatBytes
	case s.held+n > s.lim.totalBytes:
		return nil, fmt.Errorf("gateway: uploads hold %d bytes: %w", s.held, flow.ErrStoreFull)
	}
	s.inFlight++
	sf.inFlight++
	sf.bytes += n
	s.held += n
	return &upload{s: s, sid: sid, chat: chat, reserved: n}, nil
}

// end gives the reservation back; kept (when set) is the file now held in
// place of it.
func (u *upload) end(kept *flow.FileInfo) {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	sf := s.bySes[u.sid]
	if sf == nil || sf.chat != u.chat { // dropped, or a new chat began, meanwhile
		return
	}
	sf.inFlight--
	sf.bytes -= u.reserved
	s.held -= u.reserved
	if kept == nil {
		return
	}
	if old, ok := sf.files[kept.ID]; ok {
		sf.bytes -= old.Size
		s.held -= old.Size
	}
	sf.files[kept.ID] = *kept
	sf.bytes += kept.Size
	s.held += kept.Size
}

// put stores an upload's info.Size bytes, spilled to f, and records it. A
// backend that takes a reader streams them from f; for another, the bytes
// are read into memory, by at most maxLoading uploads at once.
func (s *fileStore) put(ctx context.Context, u *upload, info flow.FileInfo, f *os.File) error {
	err := s.store(ctx, u.sid, info, f)
	if err != nil {
		u.end(nil)
		return err
	}
	u.end(&info)
	return nil
}

func (s *fileStore) store(ctx context.Context, sid string, info flow.FileInfo, f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("gateway: reread upload %s: %w", info.ID, err)
	}
	if st, ok := s.backend.(flow.FileStreamer); ok {
		return st.PutFileFrom(ctx, sid, info, f)
	}
	select {
	case s.loading <- struct{}{}:
		defer func() { <-s.loading }()
	case <-ctx.Done():
		return ctx.Err()
	}
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(f, data); err != nil {
		return fmt.Errorf("gateway: reread upload %s: %w", info.ID, err)
	}
	return s.backend.PutFile(ctx, sid, info, data)
}

// spill is an upload's body on its way to a temporary file: the bytes
// written, the first 512 for sniffing, and whether they are UTF-8.
type spill struct {
	f    *os.File
	n    int64
	head []byte
	text utf8Stream
	werr error // a failed write to f (a full disk), not a failed read
}

func (s *fileStore) newSpill() (*spill, error) {
	f, err := os.CreateTemp(s.dir, "deskbridge-upload-*")
	if err != nil {
		return nil, fmt.Errorf("gateway: spill an upload: %w", err)
	}
	return &spill{f: f}, nil
}

func (sp *spill) Write(p []byte) (int, error) {
	if k := min(len(p), 512-len(sp.head)); k > 0 {
		sp.head = append(sp.head, p[:k]...)
	}
	sp.text.write(p)
	n, err := sp.f.Write(p)
	sp.n += int64(n)
	if err != nil {
		sp.werr = err
	}
	return n, err
}

// remove closes and deletes the temporary file.
func (sp *spill) remove() {
	_ = sp.f.Close()
	_ = os.Remove(sp.f.Name())
}

// utf8Stream checks that bytes written in pieces are UTF-8, a rune split
// between two pieces included.
type utf8Stream struct {
	carry []byte // the start of a rune the last piece ended in
	bad   bool
}

func (u *utf8Stream) write(p []byte) {
	for len(u.carry) > 0 && len(p) > 0 && !u.bad {
		u.carry = append(u.carry, p[0])
		p = p[1:]
		if utf8.FullRune(u.carry) {
			r, size := utf8.DecodeRune(u.carry)
			u.bad = r == utf8.RuneError && size <= 1
			u.carry = u.carry[:0]
		}
	}
	if u.bad || len(p) == 0 {
		return
	}
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	u.bad = !utf8.Valid(p[:cut])
	u.carry = append(u.carry, p[cut:]...)
}

// valid reports whether everything written was UTF-8.
func (u *utf8Stream) valid() bool { return !u.bad && len(u.carry) == 0 }

// forgetChat drops what the gateway counts of a session's uploads once its
// chat is over (the engine deletes the bytes when no message needs them).
func (s *fileStore) forgetChat(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sf, ok := s.bySes[sid]; ok && sf.inFlight == 0 {
		s.held -= sf.bytes
		delete(s.bySes, sid)
		return true
	}
	return false
}

// sessions returns the sessions with uploads counted.
func (s *fileStore) sessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.bySes))
}

// heldBytes returns the bytes of uploads kept and being read.
func (s *fileStore) heldBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// get returns the upload as the desk sees it; its Open reads the bytes
// from the backend each time.
func (s *fileStore) get(ctx context.Context, sid, id string) (servicedesk.FileUpload, bool) {
	s.mu.Lock()
	var info flow.FileInfo
	ok := false
	if sf := s.bySes[sid]; sf != nil {
		info, ok = sf.files[id]
	}
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
	if sf, ok := s.bySes[sid]; ok {
		s.held -= sf.bytes
		delete(s.bySes, sid)
	}
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

// cors answers a preflight and sets the CORS headers of an allowed origin;
// false when the origin is not allowed (the response is written).
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request, methods string) bool {
	origin, ok := g.origins.check(r)
	if !ok {
		g.stats.add(&g.stats.originRejected)
		writeHTTPError(w, http.StatusForbidden, codeForbiddenOrigin, "origin "+origin+" is not allowed")
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
		writeHTTPError(w, http.StatusUnauthorized, codeUnauthorized, "Authorization: Bearer <session token> is required")
		g.stats.errorCode(codeUnauthorized)
		return "", false
	}
	sid, legacy, ok := g.tokens.verify(tok)
	if ok && legacy {
		s, live := g.engine.Lookup(sid)
		ok = live && s.State().Active()
	}
	if !ok || !g.known(r.Context(), sid) {
		writeHTTPError(w, http.StatusUnauthorized, codeBadToken, "the session token is not valid here")
		g.stats.errorCode(codeBadToken)
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
		if n, ok := g.sampler.allow("upload:"+code, g.opts.Now()); ok {
			g.log.Info("gateway: upload refused", "session", sid, "code", code, "times", n)
		}
		writeHTTPError(w, status, code, msg)
	}
	// Everything that can refuse the upload is checked before its body is
	// read: the chat, its capabilities, the size the client declares, and
	// room for it.
	if _, live := g.engine.Lookup(sid); !live && !g.ownedElsewhere(sid) {
		fail(http.StatusConflict, codeNoChat, "the session has no chat; connect first")
		return
	}
	g.touch(sid)
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.OpTimeout)
	defer cancel()
	snap, err := g.snapshotOf(ctx, sid)
	if err != nil {
		g.log.Warn("gateway: upload: the session's state", "session", sid, "err", err)
		fail(http.StatusServiceUnavailable, codeOf(err), "the chat could not be reached now; try again")
		return
	}
	if !snap.State.Active() || snap.State == flow.StateEnding {
		g.files.forgetChat(sid)
		fail(http.StatusConflict, codeNoChat, "no chat with an agent is running; files go with a running chat")
		return
	}
	if !snap.Capabilities.AllowFileUploads {
		fail(http.StatusForbidden, codeUploadsOff, "the desk does not take files in this chat")
		return
	}
	max := g.opts.MaxUploadBytes
	if caps := snap.Capabilities; caps.MaxFileSizeBytes > 0 && caps.MaxFileSizeBytes < max {
		max = caps.MaxFileSizeBytes
	}
	const envelope = 64 << 10 // multipart headers and the file_id field
	if r.ContentLength > max+envelope {
		fail(http.StatusRequestEntityTooLarge, codeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
		return
	}
	reserve := max
	if r.ContentLength >= 0 {
		reserve = min(max, r.ContentLength)
	}
	up, err := g.files.begin(sid, snap.Chat, reserve)
	if errors.Is(err, flow.ErrStoreFull) && g.releaseEndedUploads() {
		up, err = g.files.begin(sid, snap.Chat, reserve)
	}
	if err != nil {
		switch {
		case errors.Is(err, errUploadsBusy):
			g.limited(limitUploadsInFlight, "session", sid)
			w.Header().Set("Retry-After", "2")
			fail(http.StatusTooManyRequests, codeRateLimited, "too many uploads are being received now; try again in a moment")
		case errors.Is(err, errTooManyFiles):
			fail(http.StatusConflict, codeTooManyFiles, fmt.Sprintf("a chat takes at most %d files", g.opts.MaxSessionFiles))
		case errors.Is(err, errChatBytes):
			g.limited(limitUploadBytes, "session", sid)
			fail(http.StatusRequestEntityTooLarge, codeFileTooLarge, fmt.Sprintf("the files of a chat may hold at most %d bytes", g.opts.MaxChatUploadBytes))
		default:
			g.limited(limitUploadBytes, "session", sid, "err", err)
			w.Header().Set("Retry-After", "30")
			fail(http.StatusInsufficientStorage, codeStoreFull, "the server has no room for the file now; try again later")
		}
		return
	}
	kept := false
	defer func() {
		if !kept {
			up.end(nil)
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, max+envelope)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail(http.StatusBadRequest, codeBadArgs, "the body must be multipart/form-data")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fileID := ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			fail(http.StatusBadRequest, codeBadArgs, `no "file" part`)
			return
		}
		if err != nil {
			if isTooLarge(err) {
				fail(http.StatusRequestEntityTooLarge, codeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
				return
			}
			g.log.Debug("gateway: upload: malformed multipart body", "session", sid, "err", err)
			fail(http.StatusBadRequest, codeBadArgs, "the body is not a well-formed multipart/form-data message")
			return
		}
		switch p.FormName() {
		case "file_id":
			b, _ := io.ReadAll(io.LimitReader(p, 129))
			fileID = string(b)
			if fileID == "" || len(fileID) > 128 || !utf8.ValidString(fileID) {
				fail(http.StatusBadRequest, codeBadArgs, "file_id must be 1 to 128 bytes of text")
				return
			}
		case "file":
			if fileID == "" {
				fail(http.StatusBadRequest, codeBadArgs, `send the "file_id" field before "file"`)
				return
			}
			kept = true // takeFile ends the reservation
			g.takeFile(ctx, w, up, snap.Capabilities, max, fileID, p, fail)
			return
		}
	}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (g *Gateway) takeFile(ctx context.Context, w http.ResponseWriter, up *upload, caps servicedesk.Capabilities, max int64, fileID string, p *multipart.Part, fail func(int, string, string)) {
	ended := false
	defer func() {
		if !ended {
			up.end(nil)
		}
	}()
	sid := up.sid
	name := path.Base(strings.ReplaceAll(p.FileName(), `\`, "/"))
	if why := checkName(name); why != "" {
		fail(http.StatusBadRequest, codeBadArgs, why)
		return
	}
	claimed := p.Header.Get("Content-Type")
	if ok, why := caps.Accepts(name, claimed, 0); !ok {
		fail(http.StatusUnsupportedMediaType, codeFileType, why)
		return
	}
	sp, err := g.files.newSpill()
	if err != nil {
		g.log.Error("gateway: upload: no room for its body", "session", sid, "err", err)
		w.Header().Set("Retry-After", "2")
		fail(http.StatusServiceUnavailable, codeUnavailable, "the file could not be received now; try again")
		return
	}
	defer sp.remove()
	_, err = io.Copy(sp, io.LimitReader(p, max+1))
	if err != nil {
		if sp.werr != nil {
			g.log.Error("gateway: upload: spilling its body", "session", sid, "dir", g.files.dir, "err", sp.werr)
			w.Header().Set("Retry-After", "30")
			fail(http.StatusInsufficientStorage, codeStoreFull, "the server has no room for the file now; try again later")
			return
		}
		if isTooLarge(err) {
			fail(http.StatusRequestEntityTooLarge, codeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
			return
		}
		g.log.Debug("gateway: upload: reading the file", "session", sid, "err", err)
		fail(http.StatusBadRequest, codeBadArgs, "the file could not be read completely")
		return
	}
	if sp.n > max {
		fail(http.StatusRequestEntityTooLarge, codeFileTooLarge, fmt.Sprintf("the file is larger than %d bytes", max))
		return
	}
	if ok, why := caps.Accepts(name, claimed, sp.n); !ok {
		fail(http.StatusUnsupportedMediaType, codeFileType, why)
		return
	}
	typ, why := checkContent(g.opts.UploadTypes, name, claimed, sp.head, sp.text.valid())
	if why != "" {
		fail(http.StatusUnsupportedMediaType, codeFileType, why)
		return
	}
	ended = true
	if err := g.files.put(ctx, up, flow.FileInfo{ID: fileID, Name: name, Type: typ, Size: sp.n}, sp.f); err != nil {
		switch {
		case errors.Is(err, flow.ErrStoreFull):
			g.log.Warn("gateway: the file store is full", "session", sid, "err", err)
			fail(http.StatusInsufficientStorage, codeStoreFull, "the server has no room for the file now; try again later")
		default:
			g.log.Error("gateway: store an upload", "session", sid, "err", err)
			w.Header().Set("Retry-After", "2")
			fail(http.StatusServiceUnavailable, codeUnavailable, "the file could not be stored now; try again")
		}
		return
	}
	g.stats.add(&g.stats.uploads)
	g.stats.uploadBytes.Add(uint64(sp.n))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, uploadResult{FileID: fileID, Name: name, Size: sp.n, Type: typ})
}

// uploadExts is what a file may be: its extension, with the one type its
// name, the type it is declared as and its content must all agree on.
// Anything else (.html, .svg, .exe, no extension) is refused.
var uploadExts = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".bmp": "image/bmp", ".pdf": "application/pdf", ".txt": "text/plain",
}

// typeAliases are declared types browsers send for the canonical ones.
var typeAliases = map[string]string{"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-ms-bmp": "image/bmp"}

// checkName refuses a file name that is empty, too long, not UTF-8, or
// holds control or format characters (CR and LF that would split a
// header, the bidi overrides that make "gnp.exe" look like "exe.png").
func checkName(name string) string {
	if name == "" || name == "." || name == "/" || len(name) > 255 || !utf8.ValidString(name) {
		return "the file needs a plain name of at most 255 bytes"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "the file name holds control or direction characters; rename the file"
		}
	}
	return ""
}

// checkContent applies the extension allowlist and the gateway's own
// accept list, and checks that the name, the declared type and the
// content agree: the type a browser sends is a claim, the magic bytes (in
// head, the content's first 512 bytes) are evidence; text must be UTF-8
// throughout (isUTF8). It returns the type to pass on.
func checkContent(accept, name, claimed string, head []byte, isUTF8 bool) (string, string) {
	ext := strings.ToLower(path.Ext(name))
	want, ok := uploadExts[ext]
	if !ok {
		return "", "this type of file is not accepted here"
	}
	if !servicedesk.MatchesAccept(accept, name, want) {
		return "", "this type of file is not accepted here"
	}
	typ, _, _ := mime.ParseMediaType(claimed)
	typ = cmp.Or(typeAliases[typ], typ)
	if typ != "" && typ != "application/octet-stream" && typ != want {
		return "", "the file's declared type does not match its name"
	}
	sniffed, _, _ := strings.Cut(http.DetectContentType(head), ";")
	if want == "text/plain" {
		if !strings.HasPrefix(sniffed, "text/plain") || !isUTF8 {
			return "", "the file is not plain text"
		}
		return want, ""
	}
	if sniffed != want {
		return "", "the file's content is not what its name says"
	}
	return want, ""
}
