// Package redisstore is a flow.Store, flow.FileStore and flow.Pinger on
// Redis (go-redis v9), for a deskbridge that restarts, or runs on several
// hosts, without losing its sessions.
//
// # Keys
//
// Under Options.Prefix P, a session whose id base64url-encodes to X has
// three keys, all with the hash tag {X} so that they sit in one cluster
// slot (base64url has no braces or colons, so any id is safe):
//
//	P:{X}:s   hash: rec (the record's JSON), last (the newest event's seq),
//	          bf (the first seq of the last batch saved), eb (the bytes
//	          of the event JSONs in the list)
//	P:{X}:ev  list: the newest event JSONs, oldest first: at most
//	          Options.Tail of them, within Options.MaxEventBytes (the
//	          newest always kept)
//	P:{X}:f   hash: i:<file id> (FileInfo JSON), d:<file id> (the bytes)
//
// Four keys are shared by the sessions under P:
//
//	P:sessions   zset: X of each session with a record, scored by its
//	             expiry (ms); List drops the expired ones
//	P:files      zset: X of each session with files, scored by expiry
//	P:filesizes  hash: X → bytes of its files
//	P:filebytes  string: bytes of all files, checked against MaxFileBytes
//
// The shared keys make Save, List, Delete and the file calls touch two
// slots: the store runs on a standalone Redis or a Sentinel-managed
// primary, not on a multi-shard Redis Cluster (yet; the session keys are
// ready for it).
//
// # Round trips
//
// Every call is one round trip: Save, Events, List, Delete, PutFile and
// DeleteFiles run one Lua script each (EVALSHA; EVAL once after a Redis
// restart emptied its script cache, which is a second round trip); Load and
// OpenFile are one HMGET. A script runs whole or not at all, so Save checks
// the seqs against the stored log and writes nothing on a gap
// (flow.ErrSeqGap), and a refused PutFile (flow.ErrStoreFull) leaves no
// byte behind. The store, not the record, knows LastSeq: Load sets it from
// "last".
//
// Saves of many sessions made at the same time share one pipeline (one
// write and one read for all of them; at most four pipelines in flight):
// a busy node makes far fewer system calls, in both processes, than a
// round trip per save would.
//
// A Save whose reply was lost (Redis ran it, then the connection timed
// out) is saved again by the engine, alone or with newer events: the
// script lets such a replay through (same first seq as the last batch,
// byte-equal where it overlaps the log) instead of failing it with a gap
// that would never clear. That also makes go-redis' own retry safe.
//
// # Age
//
// Every key of a session expires about Options.TTL after its last Save,
// the record, events and files together: moving the expiry costs five
// commands, so a Save moves it only when it was last moved TTL/10 (a
// minute at most) ago, and a session lives between TTL - TTL/10 and TTL
// after its last Save. PutFile gives the session's files the TTL from then. List and PutFile drop what expired from the shared keys,
// and the expired files' bytes count no more.
//
// # Durability
//
// Run Redis with appendonly yes. With appendfsync always, Redis writes
// and fsyncs the AOF before it answers, so every Save this store reported
// done survives a kill -9 or a power cut, at the cost of an fsync per
// write (batched across clients by Redis). With appendfsync everysec, a
// crash loses up to about a second of acknowledged saves; the engine then
// finds the log behind its own and saves the missing events again (see
// flow.Session's seq gap repair), but events only the lost saves held and
// no session holds in memory any more (after a restart of deskbridge too)
// are gone. With no AOF and only RDB snapshots, far more is lost.
//
// # Errors
//
// Each error is wrapped once, naming the call and the ids
// ("redisstore: save session s1: ..."). A Redis that cannot be reached
// (refused connection, timeout, a closed store) or cannot take commands
// now (LOADING, BUSY, READONLY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN,
// MISCONF) matches flow.ErrStoreUnavailable; OOM matches
// flow.ErrStoreFull; the cause matches too. An error never means that a
// Save went in by halves: it went in whole or not at all, and is saved
// again. Open's client fails a call within about 2 s when Redis does not
// answer (1 s dial, read and write timeouts, one retry, the context's
// deadline honoured) and reconnects by itself.
package redisstore
