// Package redact takes card numbers, e-mail addresses and phone numbers
// out of text before it leaves for a desk: the hand-off's summary,
// transcript and context, which an agent and the desk's records keep. It
// never touches what the user sees in their own chat.
//
// Each rule is on or off. A card number is 13 to 19 digits, spaces or
// dashes between them allowed, that pass the Luhn check (so an order
// number is left alone); an e-mail address is local@domain.tld; a phone
// number is 7 to 15 digits with an optional leading +, spaces, dots,
// dashes or parentheses between them. Each redaction is counted by rule.
package redact
