package identity_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/identity"
	"github.com/golang-jwt/jwt/v5"
)

func Example() {
	secret := []byte(strings.Repeat("s", 32)) // shared with the site
	v, err := identity.New(identity.Config{Secret: secret, Issuer: "https://shop.example", Audience: "deskbridge"})
	if err != nil {
		panic(err)
	}
	// What the site's server signs for its page when the user is logged in.
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://shop.example", "aud": "deskbridge", "sub": "c-42", "name": "Ada Lovelace",
		"exp": time.Now().Add(5 * time.Minute).Unix(),
	}).SignedString(secret)

	c, err := v.Verify(context.Background(), token)
	fmt.Println(c.ID, c.Name, err)
	_, err = v.Verify(context.Background(), token+"x")
	fmt.Println(err)
	// Output:
	// c-42 Ada Lovelace <nil>
	// identity token refused: its signature does not verify
}
