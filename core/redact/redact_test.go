package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedact(t *testing.T) {
	all := New(Rules{Cards: true, Emails: true, Phones: true})
	for in, want := range map[string]string{
		"my card 4111 1111 1111 1111 was declined":     "my card " + CardMark + " was declined",
		"card 4111-1111-1111-1111.":                    "card " + CardMark + ".",
		"amex 378282246310005 please":                  "amex " + CardMark + " please",
		"order 4111 1111 1111 1112 is late":            "order 4111 1111 1111 1112 is late", // fails Luhn
		"write to ada.lovelace+shop@example.co.uk now": "write to " + EmailMark + " now",
		"call +44 20 7946 0958 or (555) 123-4567":      "call " + PhoneMark + " or " + PhoneMark,
		"order 42 of 2026-12-02, 3 items":              "order 42 of 2026-12-02, 3 items",
		"nothing here":                                 "nothing here",
		"café 4111111111111111 €":                      "café " + CardMark + " €",
	} {
		assert.Equal(t, want, all.Redact(in), in)
	}
	c := all.Counts()
	assert.Equal(t, uint64(4), c[RuleCard])
	assert.Equal(t, uint64(1), c[RuleEmail])
	assert.Equal(t, uint64(2), c[RulePhone])
}

func TestRulesOff(t *testing.T) {
	s := "4111 1111 1111 1111, ada@example.com, +44 20 7946 0958"
	assert.Equal(t, s, New(Rules{}).Redact(s))
	cards := New(Rules{Cards: true})
	assert.Equal(t, CardMark+", ada@example.com, +44 20 7946 0958", cards.Redact(s))
	emails := New(Rules{Emails: true})
	assert.Equal(t, "4111 1111 1111 1111, "+EmailMark+", +44 20 7946 0958", emails.Redact(s))
	phones := New(Rules{Phones: true})
	got := phones.Redact(s)
	assert.Contains(t, got, "ada@example.com")
	assert.True(t, strings.HasSuffix(got, PhoneMark), got)
	assert.Equal(t, uint64(0), cards.Counts()[RuleEmail])
}

func TestLuhn(t *testing.T) {
	assert.True(t, luhn("4111111111111111"))
	assert.True(t, luhn("5500 0000 0000 0004"))
	assert.False(t, luhn("4111111111111112"))
}

func FuzzRedact(f *testing.F) {
	r := New(Rules{Cards: true, Emails: true, Phones: true})
	f.Add("4111 1111 1111 1111 ada@example.com +1 555 123 4567")
	f.Fuzz(func(t *testing.T, s string) {
		out := r.Redact(s)
		// Redacting twice changes nothing more: no mark is itself matched.
		if again := r.Redact(out); again != out {
			t.Fatalf("not stable: %q -> %q -> %q", s, out, again)
		}
	})
}
