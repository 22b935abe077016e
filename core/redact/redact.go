package redact

import (
	"regexp"
	"sync/atomic"
)

// Rules says which kinds of data are redacted.
type Rules struct {
	Cards  bool
	Emails bool
	Phones bool
}

// What each rule leaves in place of what it took.
const (
	CardMark  = "[card number removed]"
	EmailMark = "[e-mail removed]"
	PhoneMark = "[phone number removed]"
)

// Rule names, as Counts reports them.
const (
	RuleCard  = "card"
	RuleEmail = "email"
	RulePhone = "phone"
)

var (
	// Whole runs of digits and separators, so that a part of a longer
	// number is never taken for a card or a phone number.
	cardRe  = regexp.MustCompile(`\d(?:[ -]?\d)*`)
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	phoneRe = regexp.MustCompile(`\+?\(?\d(?:[ ().-]{0,2}\d)*`)
	dateRe  = regexp.MustCompile(`^(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$`)
)

// Redactor applies Rules. It is safe for concurrent use.
type Redactor struct {
	rules                Rules
	cards, emails, phone atomic.Uint64
}

// New returns a Redactor for rules.
func New(rules Rules) *Redactor { return &Redactor{rules: rules} }

// Rules returns the rules r applies.
func (r *Redactor) Rules() Rules { return r.rules }

// Redact returns s with what the rules match replaced by their marks.
func (r *Redactor) Redact(s string) string {
	if r.rules.Cards {
		s = cardRe.ReplaceAllStringFunc(s, func(m string) string {
			if n := digits(m); n < 13 || n > 19 || !luhn(m) {
				return m
			}
			r.cards.Add(1)
			return CardMark
		})
	}
	if r.rules.Emails {
		s = emailRe.ReplaceAllStringFunc(s, func(string) string {
			r.emails.Add(1)
			return EmailMark
		})
	}
	if r.rules.Phones {
		s = phoneRe.ReplaceAllStringFunc(s, func(m string) string {
			if n := digits(m); n < 7 || n > 15 || dateRe.MatchString(m) {
				return m
			}
			r.phone.Add(1)
			return PhoneMark
		})
	}
	return s
}

// Counts returns how many redactions each rule made.
func (r *Redactor) Counts() map[string]uint64 {
	return map[string]uint64{RuleCard: r.cards.Load(), RuleEmail: r.emails.Load(), RulePhone: r.phone.Load()}
}

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
