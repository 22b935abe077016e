// Package boltstore is the embedded durable flow.Store: sessions, their
// event tails and their uploaded files, kept in one bbolt file (pure Go,
// no server) and a directory of files beside it. It is for a single node:
// the file is locked by the one process that opened it.
//
// # Layout
//
// The bbolt file has five root buckets:
//
//	meta      format = "deskbridge-boltstore/2"
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
// A save appends to the one leaf page holding its session's newest events,
// and a group commit of many sessions shares the pages above. Format 1
// (a bucket per session, with its events in a bucket inside) rewrote three
// or four pages a save; Open moves such a file to format 2, a few hundred
// sessions a transaction, going on where it stopped if it is interrupted.
// An older deskbridge refuses a format 2 file with an error naming both.
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
// # Group commit and fsync
//
// Every write (Save, Delete, the metadata of PutFile and DeleteFiles) is
// handed to one committer goroutine. While a commit runs, new writes queue;
// the next commit takes all of them (up to 512) in one bbolt transaction,
// which bbolt fsyncs once on commit. There is no delay waiting for
// company: a lone save commits at once, and a busy node batches by itself,
// paying one fsync for many sessions. Nothing is acknowledged before its
// commit is on disk, so an acked save survives a crash of the process and,
// as far as the disk honours fsync, of the machine.
//
// Each write in a group gets its own answer. Save checks seqs
// (flow.CheckSeqs) inside the transaction before it writes: a refused save
// writes nothing and the others commit. A write that fails after it
// started writing rolls the group back, and the group is committed again
// without it. A caller whose ctx ends while its write is queued gets
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
