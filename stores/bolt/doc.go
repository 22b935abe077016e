// Package boltstore is the embedded durable flow.Store: sessions, their
// event tails and their uploaded files, kept in one bbolt file (pure Go,
// no server) and a directory of files beside it. It is for a single node:
// the file is locked by the one process that opened it.
//
// # Layout
//
// The bbolt file has five root buckets:
//
//	meta      format = "deskbridge-boltstore/3"; log = the newest log
//	          generation applied (8 bytes big-endian)
//	records   session id -> the flow.Record as JSON (absent for a session with events only)
//	events    every session's events as JSON, keyed by the id's length (a
//	          uvarint), the id and the seq (8 bytes big-endian), so that a
//	          session's events sort together, by seq; trimmed on every save
//	          to the newest Options.Tail within Options.MaxEventBytes (the
//	          newest always kept). The newest key is the authority on
//	          Record.LastSeq, which Load sets from it
//	evbytes   session id -> the bytes of its events' JSON (8 bytes
//	          big-endian); a session without one (saved by an older
//	          version) is counted at its next save
//	files     one bucket per session: file id -> FileInfo and the name of its bytes
//
// Beside the file, the log: path + ".log." + a generation number (see
// below). Format 3 is format 2 with the log; Open marks a format 2 file
// format 3 (nothing else changes), so that an older deskbridge, which would
// not read the log, refuses it with an error naming both formats. Format 1
// (a bucket per session, with its events in a bucket inside) rewrote three
// or four pages a save; Open moves such a file to format 3, a few hundred
// sessions a transaction, going on where it stopped if it is interrupted.
//
// The bytes of files live in Options.FilesDir (default path + ".files"),
// one directory per session named by the SHA-256 of its id, one file per
// upload named by a hash of the file id and a random part, so that no id
// ('/', "..", a NUL, 256 bytes) names a path of its own. A file is written
// to a temporary file, fsynced and renamed (and its directory fsynced)
// before its metadata is committed; a replaced file's old bytes go after
// the commit. What a crash leaves between the two (temporary files, bytes
// without metadata) is removed at the next Open.
//
// # Group commit, the log and fsync
//
// Every write (Save, Delete, the metadata of PutFile and DeleteFiles) is
// handed to one committer goroutine. While a commit runs, new writes queue;
// the next commit takes all of them (up to 512). A lone write commits at
// once; after a group of several (a busy node) the next waits up to 1 ms
// for more, since each fsync costs the same CPU however little it carries.
//
// Saves and Deletes are not written into bbolt by the committer: it
// appends the group's to the log with one write and one fdatasync, and
// acknowledges them once that returned. Nothing is acknowledged before it
// is on disk, so an acked save survives a crash of the process and, as far
// as the disk honours fsync, of the machine. bbolt is brought up to date
// from the log in the background: a generation of the log is applied in
// one bbolt transaction (fsynced by bbolt) 2 s after its first entry, or
// once it holds 32,768 entries or 32 MiB, with each session's entries
// merged, so that a busy session's pages are rewritten once a batch rather
// than once a save; new writes go to the next generation meanwhile. bbolt
// records the generation it applied in the same transaction, and the
// generation's file is removed after that commit. A Load or Events of a
// session the log holds writes of, and a List while it holds any, apply
// the log first: reads see every acknowledged write. Close applies what is
// left and removes the log (when that fails, Close says so and the log
// stays for the next Open).
//
// Open replays the logs above the applied generation, oldest first, each in
// one transaction, and removes those at or below it. A log ending in a
// write cut short by a crash (which nobody was told had succeeded) is
// replayed up to its last whole entry, with a warning; a log whose header
// is not this store's makes Open fail naming it. Each entry carries its
// length and CRC-32C.
//
// Each write in a group gets its own answer. Save checks seqs
// (flow.CheckSeqs) against what the session holds once the log is applied,
// before it is logged: a refused save writes nothing and the others
// commit. A failed log write fails the group's saves and cuts the log back
// to the last whole group. A file write that fails after it started
// writing rolls its bbolt transaction back, and the others are committed
// again without it. A caller whose ctx ends while its write is queued gets
// ctx.Err() and nothing is written; once the committer took the write, the
// caller waits for its commit.
//
// # Limits
//
// Tail events per session (default 1024), within MaxEventBytes of their
// JSON (default flow.StoreEventBytes, 4 MiB); files bounded by
// Options.MaxFileBytes in all (default 1 GiB, counted at Open), past which
// PutFile fails with flow.ErrStoreFull and leaves nothing behind; ids up to
// bbolt's key size (32 KiB). bbolt keeps freed pages for reuse and does not
// shrink the file.
//
// # Errors
//
// Errors name the operation and its ids ("boltstore: save session s1:
// ..."), and match flow's: flow.ErrNotFound, flow.ErrSeqGap,
// flow.ErrEventsTrimmed; flow.ErrStoreFull for the file bound and for a
// full disk (ENOSPC, EDQUOT); flow.ErrStoreUnavailable after Close and
// when another process holds the file. Open says so, naming the file, when
// the file is in use by another process (or by another Store in this one),
// when it is not a bbolt database, when it is truncated, when bbolt's
// consistency check fails, and when it belongs to some other program. A
// page corrupted later turns into an error of the call that read it, not a
// panic.
package boltstore
