package redact_test

import (
	"fmt"

	"github.com/deskbridge/deskbridge/core/redact"
)

func Example() {
	r := redact.New(redact.Rules{Cards: true, Emails: true})
	fmt.Println(r.Redact("card 4111 1111 1111 1111, mail ada@example.com, order 1234567"))
	fmt.Println(r.Counts()[redact.RuleCard], r.Counts()[redact.RuleEmail])
	// Output:
	// card [card number removed], mail [e-mail removed], order 1234567
	// 1 1
}
