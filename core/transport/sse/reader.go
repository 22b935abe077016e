package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxLine bounds one line of a stream (an event's data line, typically).
const MaxLine = 1 << 20

// ErrLineTooLong is returned by Reader.Next for a line over MaxLine.
var ErrLineTooLong = errors.New("sse: line too long")

// Event is one dispatched event. Type is "message" when the server named
// none; ID is the last event id the stream set (it persists across events,
// as the standard says).
type Event struct {
	ID   string
	Type string
	Data string
}

// Reader parses a text/event-stream body.
type Reader struct {
	sc     *bufio.Scanner
	lastID string
	retry  time.Duration
	first  bool
}

// NewReader reads events from r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	sc.Split(splitLines)
	return &Reader{sc: sc, first: true}
}

// SetLastID sets the event id the stream starts from (the one a
// reconnection sent as Last-Event-Id).
func (r *Reader) SetLastID(id string) { r.lastID = id }

// Retry returns the reconnection time the server asked for with a retry
// field, or 0.
func (r *Reader) Retry() time.Duration { return r.retry }

// Next returns the next event. It returns io.EOF when the body ends (an
// event not ended by a blank line is dropped, as the standard says).
func (r *Reader) Next() (Event, error) {
	var data strings.Builder
	hasData := false
	typ := ""
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if r.first {
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
			r.first = false
		}
		if len(line) == 0 {
			if !hasData {
				typ = ""
				continue
			}
			ev := Event{ID: r.lastID, Type: typ, Data: strings.TrimSuffix(data.String(), "\n")}
			if ev.Type == "" {
				ev.Type = "message"
			}
			return ev, nil
		}
		if line[0] == ':' {
			continue // a comment: a heartbeat
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			typ = string(value)
		case "data":
			data.Write(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.lastID = string(value)
			}
		case "retry":
			if ms, err := strconv.Atoi(string(value)); err == nil && ms >= 0 {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Event{}, ErrLineTooLong
		}
		return Event{}, err
	}
	return Event{}, io.EOF
}

// splitLines splits on CRLF, LF or a lone CR, the three line ends of the
// format.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
	if data[i] == '\r' {
		if i+1 == len(data) && !atEOF {
			return 0, nil, nil // a CRLF may be split across reads
		}
		if i+1 < len(data) && data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
	}
	return i + 1, data[:i], nil
}
