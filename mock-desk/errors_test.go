package mockdesk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestErrorCodesAreTheProtocols: every error mock-desk answers has a code
// that the protocol's clients know (deskproto's one list), so a client
// reads the same kind of failure that mock-desk meant.
func TestErrorCodesAreTheProtocols(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "codeErr" {
			return true
		}
		sel, ok := call.Args[0].(*ast.SelectorExpr)
		if !ok {
			t.Errorf("codeErr(%v, …): the code is not one of deskproto's constants", call.Args[0])
			return true
		}
		n++
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "deskproto" {
			t.Errorf("codeErr(%v, …): not a deskproto code", sel.Sel.Name)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found %d protocol errors in errors.go, want them all", n)
	}
	for _, e := range []*CodeError{ErrChatNotFound, ErrUnauthorized, ErrChatEnded, ErrRateLimited, ErrUnavailable, ErrMessageRejected, ErrNoAgent, ErrClosed} {
		if servicedesk.CodeOf(e) == servicedesk.CodeUnknown || deskproto.KindOf(e.Code) != servicedesk.CodeOf(e) {
			t.Errorf("%s: code %s, want the protocol's kind", e.Code, servicedesk.CodeOf(e))
		}
	}
	if servicedesk.CodeOf(ErrRateLimited) != servicedesk.CodeRateLimited || servicedesk.CodeOf(ErrChatEnded) != servicedesk.CodeNotFound {
		t.Fatal("rate_limited or chat_ended read as another kind")
	}
}
