package amazonconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// APIError is an error answer of the Participant Service (or of the
// attachment upload URL): the HTTP status, Connect's exception name from
// x-amzn-ErrorType, and its message. It matches the servicedesk sentinel
// of its kind with errors.Is: ErrRateLimited (ThrottlingException, 429),
// ErrUnavailable (5xx), ErrChatNotFound (AccessDeniedException, 403:
// the contact ended or the token is no longer valid), ErrRejected (other
// 4xx: ValidationException, ServiceQuotaExceededException,
// ConflictException).
type APIError struct {
	Op      string
	Status  int
	Type    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("amazonconnect: %s: HTTP %d %s: %s", e.Op, e.Status, e.Type, e.Message)
}

// ErrorCode implements servicedesk.Coder: the kind of Connect's answer.
func (e *APIError) ErrorCode() servicedesk.ErrorCode {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Type == "ThrottlingException":
		return servicedesk.CodeRateLimited
	case e.Status >= 500:
		return servicedesk.CodeUnavailable
	case e.Status == http.StatusForbidden || e.Type == "AccessDeniedException" || e.Type == "ResourceNotFoundException":
		return servicedesk.CodeNotFound
	default:
		return servicedesk.CodeRejected
	}
}

// HTTPStatus implements servicedesk.HTTPStatuser.
func (e *APIError) HTTPStatus() int { return e.Status }

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *APIError) Unwrap() error { return e.ErrorCode().Err() }

// participantAPI calls the Participant Service's REST operations. They
// use bearer tokens (X-Amz-Bearer), not SigV4.
type participantAPI struct {
	base string
	http *retryablehttp.Client
}

func newParticipantAPI(base string, hc *http.Client, retries int, backoff retry.Backoff) *participantAPI {
	c := retryablehttp.NewClient()
	c.HTTPClient = hc
	c.Logger = nil
	c.RetryMax = retries
	c.CheckRetry = retryablehttp.DefaultRetryPolicy
	c.Backoff = func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
		return backoff.After(attempt, resp, time.Now())
	}
	// Keep the last answer, so its Connect error can be read.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &participantAPI{base: strings.TrimSuffix(base, "/"), http: c}
}

// call POSTs in as JSON to path with the bearer token and decodes the
// answer into out (when not nil). Throttling and 5xx answers are retried
// with backoff honouring Retry-After; the operations that create things
// carry a ClientToken, so a retry after an ambiguous failure is safe.
func (p *participantAPI) call(ctx context.Context, op, path, bearer string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("amazonconnect: %s: encode: %w", op, err)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, p.base+path, body)
	if err != nil {
		return fmt.Errorf("amazonconnect: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Bearer", bearer)
	resp, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("amazonconnect: %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("amazonconnect: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("amazonconnect: %s: read answer: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeAPIError(op, resp, b)
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("amazonconnect: %s: decode answer: %w", op, err)
	}
	return nil
}

// decodeAPIError reads Connect's error: the exception name in
// x-amzn-ErrorType (its part before ':'), or "__type" in the body, and the
// message as "Message" or "message".
func decodeAPIError(op string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Op: op, Status: resp.StatusCode}
	var m struct {
		Type     string `json:"__type"`
		Message  string `json:"Message"`
		Message2 string `json:"message"`
	}
	_ = json.Unmarshal(body, &m)
	e.Type, _, _ = strings.Cut(resp.Header.Get("x-amzn-ErrorType"), ":")
	if e.Type == "" {
		e.Type = m.Type
		if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
			e.Type = e.Type[i+1:]
		}
	}
	e.Message = m.Message
	if e.Message == "" {
		e.Message = m.Message2
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// Wire shapes of the Participant Service, from its API reference.

type createConnectionRequest struct {
	Type               []string `json:"Type"`
	ConnectParticipant bool     `json:"ConnectParticipant,omitempty"`
}

type createConnectionResponse struct {
	Websocket *struct {
		URL              string `json:"Url"`
		ConnectionExpiry string `json:"ConnectionExpiry"`
	} `json:"Websocket"`
	ConnectionCredentials *struct {
		ConnectionToken string `json:"ConnectionToken"`
		Expiry          string `json:"Expiry"`
	} `json:"ConnectionCredentials"`
}

type sendRequest struct {
	ContentType string `json:"ContentType"`
	Content     string `json:"Content"`
	ClientToken string `json:"ClientToken,omitempty"`
}

type sendResponse struct {
	ID           string `json:"Id"`
	AbsoluteTime string `json:"AbsoluteTime"`
}

type startPosition struct {
	ID           string `json:"Id,omitempty"`
	AbsoluteTime string `json:"AbsoluteTime,omitempty"`
	MostRecent   int    `json:"MostRecent,omitempty"`
}

type transcriptRequest struct {
	ContactID     string         `json:"ContactId,omitempty"`
	MaxResults    int            `json:"MaxResults,omitempty"`
	NextToken     string         `json:"NextToken,omitempty"`
	ScanDirection string         `json:"ScanDirection,omitempty"`
	SortOrder     string         `json:"SortOrder,omitempty"`
	StartPosition *startPosition `json:"StartPosition,omitempty"`
}

type transcriptResponse struct {
	InitialContactID string      `json:"InitialContactId"`
	NextToken        string      `json:"NextToken"`
	Transcript       []wire.Item `json:"Transcript"`
}

type startUploadRequest struct {
	ContentType           string `json:"ContentType"`
	AttachmentSizeInBytes int64  `json:"AttachmentSizeInBytes"`
	AttachmentName        string `json:"AttachmentName"`
	ClientToken           string `json:"ClientToken"`
}

type startUploadResponse struct {
	AttachmentID   string `json:"AttachmentId"`
	UploadMetadata struct {
		URL              string            `json:"Url"`
		URLExpiry        string            `json:"UrlExpiry"`
		HeadersToInclude map[string]string `json:"HeadersToInclude"`
	} `json:"UploadMetadata"`
}

type completeUploadRequest struct {
	AttachmentIDs []string `json:"AttachmentIds"`
	ClientToken   string   `json:"ClientToken"`
}

type disconnectRequest struct {
	ClientToken string `json:"ClientToken,omitempty"`
}

// upload PUTs content to a pre-signed URL with the headers Connect asked
// for. It is retried like the REST calls.
func (p *participantAPI) upload(ctx context.Context, url string, headers map[string]string, content []byte) error {
	const op = "attachment upload"
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPut, url, content)
	if err != nil {
		return fmt.Errorf("amazonconnect: %s: %w", op, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(content))
	resp, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("amazonconnect: %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("amazonconnect: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		e := &APIError{Op: op, Status: resp.StatusCode, Type: "S3Error", Message: strings.TrimSpace(string(b))}
		if i, j := bytes.Index(b, []byte("<Code>")), bytes.Index(b, []byte("</Code>")); i >= 0 && j > i {
			e.Type = string(b[i+6 : j])
		}
		return e
	}
	return nil
}

// isGone reports whether err says the contact or the token is over.
func isGone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && errors.Is(ae, servicedesk.ErrChatNotFound)
}
