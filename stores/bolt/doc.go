// Package boltstore is the embedded durable flow.Store: sessions, their
// event tails and their uploaded files, kept in one bbolt file (pure Go, no
// server) plus a directory of files beside it.
package boltstore
