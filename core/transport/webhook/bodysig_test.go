package webhook

import (
	"fmt"
	"strings"
	"testing"
)

// TestValidBodyHMAC: the signature of the body under either secret
// passes, in either case; another body, another secret, an empty or
// malformed signature and an empty secret do not.
func TestValidBodyHMAC(t *testing.T) {
	body := []byte(`{"id":"6717c2b1e5b1f00012ab3511","name":"kustomer.conversation.update"}`)
	old, cur := []byte("old-token"), []byte("new-token")
	sig := BodyHMAC(cur, body)
	// RFC 4231 test case 2, to pin the algorithm.
	if got := BodyHMAC([]byte("Jefe"), []byte("what do ya want for nothing?")); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("BodyHMAC = %s", got)
	}
	for _, tc := range []struct {
		name    string
		secrets [][]byte
		body    []byte
		sig     string
		want    bool
	}{
		{"current secret", [][]byte{old, cur}, body, sig, true},
		{"upper case", [][]byte{cur}, body, strings.ToUpper(sig), true},
		{"another body", [][]byte{old, cur}, append(body, ' '), sig, false},
		{"another secret", [][]byte{old}, body, sig, false},
		{"empty", [][]byte{cur}, body, "", false},
		{"not hex", [][]byte{cur}, body, "zz" + sig[2:], false},
		{"short", [][]byte{cur}, body, sig[:10], false},
		{"no secret", [][]byte{{}}, body, BodyHMAC(nil, body), false},
	} {
		if got := ValidBodyHMAC(tc.secrets, tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: ValidBodyHMAC = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ExampleValidBodyHMAC() {
	token := []byte("the webhook's token")
	body := []byte(`{"id":"e1","name":"kustomer.message.create"}`)
	header := BodyHMAC(token, body) // what the vendor sends
	fmt.Println(ValidBodyHMAC([][]byte{token}, body, header), ValidBodyHMAC([][]byte{token}, body[1:], header))
	// Output: true false
}
