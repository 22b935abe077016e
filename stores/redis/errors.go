package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/redis/go-redis/v9"
)

// classify adds the flow error an error from Redis stands for, keeping the
// cause: errors.Is matches both.
func classify(err error) error {
	if kind := kindOf(err); kind != nil {
		return &storeError{kind: kind, cause: err}
	}
	return err
}

type storeError struct{ kind, cause error }

func (e *storeError) Error() string   { return e.kind.Error() + ": " + e.cause.Error() }
func (e *storeError) Unwrap() []error { return []error{e.kind, e.cause} }

// Replies of a Redis that cannot take the command now, by their prefix.
var unavailablePrefixes = []string{
	"LOADING",     // replaying its AOF after a start
	"BUSY",        // another script runs too long
	"MASTERDOWN",  // a replica that lost its primary
	"READONLY",    // a replica, after a failover
	"TRYAGAIN",    // a cluster resharding
	"CLUSTERDOWN", // a cluster without quorum
	"MISCONF",     // cannot write its AOF or RDB
}

func kindOf(err error) error {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		if strings.HasPrefix(msg, "OOM") {
			return flow.ErrStoreFull
		}
		for _, p := range unavailablePrefixes {
			if strings.HasPrefix(msg, p) {
				return flow.ErrStoreUnavailable
			}
		}
		return nil
	}
	var nerr net.Error
	switch {
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &nerr):
		return flow.ErrStoreUnavailable
	}
	return nil
}
